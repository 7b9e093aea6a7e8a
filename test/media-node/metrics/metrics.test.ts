import { describe, expect, it } from 'vitest';
import { CpuSampler, PrometheusText } from '../../../media-node/metrics/index.ts';

describe('Prometheus text', () => {
  it('writes HELP, TYPE and samples with escaped labels', () => {
    const text = new PrometheusText()
      .add('sipedge_media_sessions', 'gauge', 'Sessions open now.', [{ labels: { state: 'relaying' }, value: 3 }])
      .add('sipedge_weird_total', 'counter', 'Odd "labels".', [{ labels: { reason: 'a"b\\c\nd' }, value: 0.125 }])
      .add('sipedge_ratio', 'gauge', 'Not known yet.', Number.NaN)
      .toString();
    expect(text).toBe(
      [
        '# HELP sipedge_media_sessions Sessions open now.',
        '# TYPE sipedge_media_sessions gauge',
        'sipedge_media_sessions{state="relaying"} 3',
        '# HELP sipedge_weird_total Odd "labels".',
        '# TYPE sipedge_weird_total counter',
        'sipedge_weird_total{reason="a\\"b\\\\c\\nd"} 0.125',
        '# HELP sipedge_ratio Not known yet.',
        '# TYPE sipedge_ratio gauge',
        'sipedge_ratio NaN',
        '',
      ].join('\n'),
    );
  });
});

describe('the CPU-per-call sampler', () => {
  it('divides CPU time by session time over its window', () => {
    let now = 0;
    let cpu = 0;
    let sessionSeconds = 0;
    const sampler = new CpuSampler({ now: () => now, cpuSeconds: () => cpu, sessionSeconds: () => sessionSeconds, windowMs: 20_000 });
    sampler.sample();
    expect(sampler.perCall).toBeUndefined();
    // 10 calls for 10 s using 1.5 s of CPU: 1.5 % of a core each.
    now = 10_000;
    cpu = 1.5;
    sessionSeconds = 100;
    sampler.sample();
    expect(sampler.perCall).toBeCloseTo(0.015, 6);
    expect(sampler.utilisation).toBeCloseTo(0.15, 6);
    // The window slides: the first sample drops out once it is older than 20 s.
    now = 30_000;
    cpu = 1.5 + 4;
    sessionSeconds = 100 + 400;
    sampler.sample();
    expect(sampler.perCall).toBeCloseTo(0.01, 6);
  });
});
