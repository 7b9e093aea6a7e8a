/**
 * The Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then one line per
 * sample, with label values escaped (backslash, double quote, line feed).
 */

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

export class PrometheusText {
  readonly #lines: string[] = [];

  /** Adds one metric family; a family without samples is written with none. */
  add(name: string, type: MetricType, help: string, samples: number | readonly Sample[]): this {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const sample of typeof samples === 'number' ? [{ value: samples }] : samples) {
      this.#lines.push(`${name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
    }
    return this;
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}
