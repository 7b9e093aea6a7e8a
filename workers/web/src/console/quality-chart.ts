/**
 * A small line chart of one quality figure (jitter, loss or MOS) over a call, one line per
 * direction, drawn as SVG by hand. The lines differ in dash pattern as well as colour, the chart is
 * an `img` named by its caption, and a text summary under it (each direction's mean, worst and
 * sample count) says in words what the lines show. An interval without a value (hold: no MOS)
 * breaks its line.
 */
import { el } from '../common/dom.ts';

export interface ChartPoint {
  /** Seconds since media began. */
  readonly t: number;
  readonly value: number | null;
}

export interface ChartLine {
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  /** The y axis spans at least this range (MOS: 1 to 4.5). */
  readonly floor: number;
  readonly ceiling: number;
  /** Which end is bad, for the summary's "worst". */
  readonly worse: 'higher' | 'lower';
  readonly digits: number;
}

const WIDTH = 320;
const HEIGHT = 140;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };
const STYLES = [
  { stroke: 'var(--accent)', dash: '' },
  { stroke: 'var(--warn)', dash: '6 4' },
];

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Readonly<Record<string, string>>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}

export function renderChart(spec: ChartSpec, lines: readonly ChartLine[]): HTMLElement {
  const values = lines.flatMap((line) => line.points.flatMap((point) => (point.value === null ? [] : [point.value])));
  const times = lines.flatMap((line) => line.points.map((point) => point.t));
  const yMin = Math.min(spec.floor, ...values);
  const yMax = Math.max(spec.ceiling, ...values);
  const tMax = Math.max(1, ...times);
  const x = (t: number): number => PAD.left + (t / tMax) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number): number => PAD.top + (1 - (value - yMin) / (yMax - yMin || 1)) * (HEIGHT - PAD.top - PAD.bottom);
  const format = (value: number): string => value.toFixed(spec.digits);

  const captionId = `${spec.id}-caption`;
  const summaryId = `${spec.id}-summary`;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': captionId, 'aria-describedby': summaryId, class: 'chart', 'data-chart': spec.id },
    svg('line', { x1: String(PAD.left), y1: String(y(yMin)), x2: String(WIDTH - PAD.right), y2: String(y(yMin)), class: 'axis' }),
    svg('line', { x1: String(PAD.left), y1: String(PAD.top), x2: String(PAD.left), y2: String(y(yMin)), class: 'axis' }),
    svg('text', { x: String(PAD.left - 4), y: String(y(yMax) + 8), 'text-anchor': 'end', class: 'tick' }, format(yMax)),
    svg('text', { x: String(PAD.left - 4), y: String(y(yMin)), 'text-anchor': 'end', class: 'tick' }, format(yMin)),
    svg('text', { x: String(PAD.left), y: String(HEIGHT - 6), class: 'tick' }, '0 s'),
    svg('text', { x: String(WIDTH - PAD.right), y: String(HEIGHT - 6), 'text-anchor': 'end', class: 'tick' }, `${Math.round(tMax)} s`),
  );
  lines.forEach((line, index) => {
    const style = STYLES[index % STYLES.length] as (typeof STYLES)[number];
    // A null value ends a run: each run of known values is its own path.
    let d = '';
    let pen = 'M';
    for (const point of line.points) {
      if (point.value === null) {
        pen = 'M';
        continue;
      }
      d += `${pen}${x(point.t).toFixed(1)},${y(point.value).toFixed(1)} `;
      pen = 'L';
    }
    const known = line.points.filter((point) => point.value !== null);
    if (known.length === 1 && known[0] !== undefined) {
      chart.append(svg('circle', { cx: x(known[0].t).toFixed(1), cy: y(known[0].value as number).toFixed(1), r: '3', fill: style.stroke, 'data-line': line.name }));
    }
    if (d !== '') chart.append(svg('path', { d: d.trim(), fill: 'none', stroke: style.stroke, 'stroke-width': '2', 'stroke-dasharray': style.dash, 'data-line': line.name }));
  });

  const legend = el(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    ...lines.map((line, index) => el('li', { 'data-style': String(index % STYLES.length) }, line.name)),
  );
  const summary = el('p', { id: summaryId, class: 'chart-summary' }, lines.map((line) => describe(spec, line, format)).join(' '));
  return el('figure', { class: 'chart-box' }, el('figcaption', { id: captionId }, spec.unit === spec.title ? spec.title : `${spec.title} (${spec.unit})`), chart, legend, summary);
}

function describe(spec: ChartSpec, line: ChartLine, format: (value: number) => string): string {
  const known = line.points.flatMap((point) => (point.value === null ? [] : [point.value]));
  if (known.length === 0) return `${line.name}: no samples with media.`;
  const mean = known.reduce((sum, value) => sum + value, 0) / known.length;
  const worst = spec.worse === 'higher' ? Math.max(...known) : Math.min(...known);
  return `${line.name}: mean ${format(mean)} ${spec.unit}, worst ${format(worst)} ${spec.unit} over ${known.length} samples.`;
}
