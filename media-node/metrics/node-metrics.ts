/**
 * `/metrics`: the node's figures in Prometheus text. Counters are summed over every session the
 * node has had (`control/traffic-totals.ts`); gauges describe now. Names follow Prometheus
 * conventions (`_total` for counters, base units), under `sipedge_media_`, plus the standard
 * `process_cpu_seconds_total` and `process_resident_memory_bytes`.
 */
import type { ControlServerCounters, SessionRegistry } from '../control/index.ts';
import type { HeartbeatCounters, SessionEndReporterCounters } from '../edge/index.ts';
import type { FrameTicker } from '../relay/index.ts';
import type { CpuSampler } from './cpu-sampler.ts';
import { PrometheusText, type Sample } from './prometheus-text.ts';

export interface NodeMetricsSources {
  readonly nodeId: string;
  readonly region: string;
  readonly registry: SessionRegistry;
  readonly ticker: FrameTicker;
  readonly cpu: CpuSampler;
  readonly cpuSeconds: () => number;
  readonly residentBytes: () => number;
  readonly control?: ControlServerCounters | undefined;
  readonly heartbeat?: HeartbeatCounters | undefined;
  readonly endReports?: SessionEndReporterCounters | undefined;
  /** Event-loop delay since the last scrape, in ms, when monitored. */
  readonly eventLoopDelay?: (() => { readonly p99: number; readonly max: number }) | undefined;
  /** Exceptions and rejections nothing else caught, logged by the entry point. */
  readonly uncaughtErrors?: () => number;
  /** SIP gateway links open now. */
  readonly sipLinks?: () => number;
}

export function renderNodeMetrics(sources: NodeMetricsSources): string {
  const { registry } = sources;
  const counts = registry.counts();
  const totals = registry.totals();
  const text = new PrometheusText();
  text
    .add('sipedge_media_node_info', 'gauge', 'The node, by id and region (always 1).', [{ labels: { node: sources.nodeId, region: sources.region }, value: 1 }])
    .add('sipedge_media_sessions', 'gauge', 'Sessions open now, by state.', [
      { labels: { state: 'relaying' }, value: counts.relaying },
      { labels: { state: 'awaiting-answer' }, value: counts.awaitingAnswer },
    ])
    .add('sipedge_media_sip_links', 'gauge', 'SIP gateway links (UDP sockets toward PBXs) open now.', sources.sipLinks?.() ?? 0)
    .add('sipedge_media_sessions_transcoding', 'gauge', 'Relaying sessions that transcode at least one direction.', counts.transcoding)
    .add('sipedge_media_sessions_capacity', 'gauge', 'Most sessions this node takes at once.', registry.capacity)
    .add('sipedge_media_sessions_created_total', 'counter', 'Sessions opened.', registry.createdTotal)
    .add(
      'sipedge_media_sessions_ended_total',
      'counter',
      'Sessions ended, by reason.',
      [...registry.endedByReason].map(([reason, value]) => ({ labels: { reason }, value })),
    )
    .add('sipedge_media_session_seconds_total', 'counter', 'Seconds sessions have spent relaying, summed over sessions.', registry.relayingSeconds())
    .add('sipedge_media_rtp_packets_total', 'counter', 'RTP packets, by leg and direction.', [
      { labels: { leg: 'browser', direction: 'in' }, value: totals.packets.browserIn },
      { labels: { leg: 'browser', direction: 'out' }, value: totals.packets.browserOut },
      { labels: { leg: 'pbx', direction: 'in' }, value: totals.packets.pbxIn },
      { labels: { leg: 'pbx', direction: 'out' }, value: totals.packets.pbxOut },
    ])
    .add('sipedge_media_rtcp_packets_total', 'counter', 'RTCP compound packets on the PBX leg, by direction.', [
      { labels: { direction: 'in' }, value: totals.rtcp.pbxIn },
      { labels: { direction: 'out' }, value: totals.rtcp.pbxOut },
    ])
    .add('sipedge_media_dropped_packets_total', 'counter', 'Packets dropped, by where and why.', dropSamples(totals.dropped))
    .add('sipedge_media_transcoded_frames_total', 'counter', '20 ms frames through a transcoder, by direction of conversion.', [
      { labels: { path: 'opus-to-g711' }, value: totals.transcoded.opusToG711 },
      { labels: { path: 'g711-to-opus' }, value: totals.transcoded.g711ToOpus },
    ])
    .add('sipedge_media_concealed_frames_total', 'counter', 'Frames made up by Opus packet-loss concealment.', totals.concealed)
    .add('sipedge_media_session_errors_total', 'counter', 'Exceptions caught inside sessions (each stayed in its session).', totals.errors)
    .add('sipedge_media_ticker_skipped_frames_total', 'counter', 'Frames of the 20 ms clock skipped after a stalled event loop.', sources.ticker.counters.skippedFrames)
    .add('process_cpu_seconds_total', 'counter', 'User and system CPU time of the node process.', sources.cpuSeconds())
    .add('process_resident_memory_bytes', 'gauge', 'Resident memory of the node process.', sources.residentBytes())
    .add('sipedge_media_cpu_per_call_ratio', 'gauge', 'Estimated share of one core per relaying call over the last minute (NaN before calls relay).', sources.cpu.perCall ?? Number.NaN)
    .add('sipedge_media_cpu_utilisation_ratio', 'gauge', 'Share of one core the process used over the last minute.', sources.cpu.utilisation ?? Number.NaN);
  const control = sources.control;
  if (control !== undefined) {
    text
      .add(
        'sipedge_media_control_responses_total',
        'counter',
        'Control API responses, by status code.',
        [...control.responses].map(([status, value]) => ({ labels: { status: String(status) }, value })),
      )
      .add(
        'sipedge_media_control_refused_total',
        'counter',
        'Control requests refused before routing, by reason (unsigned, malformed, stale, bad-signature, replayed).',
        [...control.refused].map(([reason, value]) => ({ labels: { reason }, value })),
      );
  }
  if (sources.heartbeat !== undefined) {
    text.add('sipedge_media_heartbeats_total', 'counter', 'Heartbeats to the edge, by outcome.', [
      { labels: { outcome: 'accepted' }, value: sources.heartbeat.sent },
      { labels: { outcome: 'failed' }, value: sources.heartbeat.failed },
    ]);
  }
  if (sources.endReports !== undefined) {
    text.add('sipedge_media_end_reports_total', 'counter', 'Session-end reports to the edge, by outcome (after retries).', [
      { labels: { outcome: 'delivered' }, value: sources.endReports.delivered },
      { labels: { outcome: 'failed' }, value: sources.endReports.failed },
    ]);
  }
  if (sources.eventLoopDelay !== undefined) {
    // A loaded node shows here first: every packet and every 20 ms frame waits behind the event loop.
    const delay = sources.eventLoopDelay();
    text.add('sipedge_media_event_loop_delay_seconds', 'gauge', 'Event-loop delay since the previous scrape (timer lateness), by quantile.', [
      { labels: { quantile: '0.99' }, value: delay.p99 / 1000 },
      { labels: { quantile: '1' }, value: delay.max / 1000 },
    ]);
  }
  if (sources.uncaughtErrors !== undefined) {
    text.add('sipedge_media_uncaught_errors_total', 'counter', 'Exceptions and rejections no handler caught (logged, the node carried on).', sources.uncaughtErrors());
  }
  return text.toString();
}

function dropSamples(dropped: ReadonlyMap<string, number>): Sample[] {
  return [...dropped].map(([key, value]) => {
    const [where = '', reason = ''] = key.split('|');
    return { labels: { where, reason }, value };
  });
}
