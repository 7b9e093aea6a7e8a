export type { CpuSamplerOptions } from './cpu-sampler.ts';
export { CpuSampler, processCpuSeconds } from './cpu-sampler.ts';
export type { NodeMetricsSources } from './node-metrics.ts';
export { renderNodeMetrics } from './node-metrics.ts';
export type { MetricType, Sample } from './prometheus-text.ts';
export { PrometheusText } from './prometheus-text.ts';
