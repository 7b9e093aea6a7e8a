/**
 * A media node's session-end report as a call's record keeps it (`workers/directory/call-records.ts`):
 * the node, how the session ended, the codecs, each direction's summary (packets, loss, jitter,
 * round trip, MOS: `media-node/relay/session-stats.ts`) and quality samples
 * (`media-node/quality/quality-series.ts`). Nodes and edge are upgraded separately, so the report is
 * read tolerantly: a member of another shape is left out, never an error.
 */
import type { CallMedia, DirectionSummary, MediaSamples, QualitySample } from '../directory/call-records.ts';

export interface EndReportForCall {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly reason: string;
  readonly endedAt: string;
  readonly stats?: unknown;
  readonly samples?: unknown;
}

export function callMediaOf(report: EndReportForCall): CallMedia {
  const stats = objectOr(report.stats);
  const samples = objectOr(report.samples);
  return {
    nodeId: report.nodeId,
    sessionId: report.sessionId,
    reason: report.reason,
    endedAt: report.endedAt,
    ...codecsOf(objectOr(stats?.['codecs'])),
    summary: { browserToPbx: summaryOf(stats?.['browserToPbx']), pbxToBrowser: summaryOf(stats?.['pbxToBrowser']) },
    ...(samples === undefined ? {} : { samples: samplesOf(samples) }),
  };
}

function codecsOf(codecs: Record<string, unknown> | undefined): Pick<CallMedia, 'codecs'> {
  if (codecs === undefined) return {};
  const name = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  return { codecs: { browser: name(codecs['browser']), pbx: name(codecs['pbx']) } };
}

function samplesOf(samples: Record<string, unknown>): MediaSamples {
  const list = (value: unknown): QualitySample[] => (Array.isArray(value) ? value.flatMap((each) => sampleOf(objectOr(each))) : []);
  return { intervalMs: number(samples['intervalMs']), browserToPbx: list(samples['browserToPbx']), pbxToBrowser: list(samples['pbxToBrowser']) };
}

function sampleOf(sample: Record<string, unknown> | undefined): QualitySample[] {
  if (sample === undefined || typeof sample['t'] !== 'number') return [];
  return [
    {
      t: number(sample['t']),
      packets: number(sample['packets']),
      lost: number(sample['lost']),
      lossPercent: number(sample['lossPercent']),
      jitterMs: number(sample['jitterMs']),
      roundTripMs: numberOrNull(sample['roundTripMs']),
      mos: numberOrNull(sample['mos']),
    },
  ];
}

function number(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function summaryOf(direction: unknown): DirectionSummary | null {
  const received = objectOr(objectOr(direction)?.['received']);
  if (received === undefined) return null;
  const rtt = received['roundTripMs'];
  return {
    packets: number(received['packets']),
    lost: Math.max(0, number(received['lost'])),
    lossPercent: number(received['lossPercent']),
    jitterMs: number(received['jitterMs']),
    roundTripMs: typeof rtt === 'number' ? rtt : null,
    mos: number(received['mos']),
  };
}

function objectOr(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

