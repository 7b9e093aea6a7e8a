/**
 * One running media node: the parts wired from its configuration.
 *
 *   FrameTicker (one per node) + PortRange ---> SessionRegistry ---> ControlServer (/v1, /health, /metrics)
 *                                                  SipGateway ------> ControlServer (WebSocket /v1/sip-gateway/links/:id)
 *                                                  | ends the edge did not ask for
 *                                                  v
 *                        SessionEndReporter ---> edge   <--- Heartbeat (every N s)
 *
 * `stop()` is the graceful shutdown: new sessions are refused, every session is ended and reported
 * to the edge as `node-shutdown` (so it can BYE both dialogs), the reports get a few seconds to
 * go out, a last heartbeat says the node is stopping, and then the control API closes.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { NodeConfig } from '../config/index.ts';
import { HEARTBEAT_PATH } from '../config/index.ts';
import { ControlServer, SessionRegistry, sessionRoutes } from '../control/index.ts';
import { EdgeClient, Heartbeat, SessionEndReporter, type HeartbeatBody } from '../edge/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { CpuSampler, processCpuSeconds, renderNodeMetrics } from '../metrics/index.ts';
import { PortRange } from '../pbx-leg/index.ts';
import { FrameTicker, type SamplingOptions } from '../relay/index.ts';
import { ReplayGuard, RequestSigner } from '../signing/index.ts';
import { LinkPortRange, SIP_GATEWAY_PATH, SipGateway, WebSocketConnection, handshakeProblem, type SipTiming } from '../sip-gateway/index.ts';

export interface MediaNodeServiceOptions {
  readonly logger?: Logger;
  /** Retry waits for session-end reports; default 0.25, 1, 3 s. */
  readonly reportRetryDelaysMs?: readonly number[];
  /** How long shutdown waits for end reports; default 5 s. */
  readonly shutdownReportDeadlineMs?: number;
  /** Exceptions nothing else caught, as the entry point counts them. */
  readonly uncaughtErrors?: () => number;
  /** The SIP gateway's T1 and T2; default RFC 3261's 500 ms and 4 s. */
  readonly sipTiming?: SipTiming;
  /** How long a SIP gateway link outlives its WebSocket; default 120 s. */
  readonly sipLinkGraceMs?: number;
  /** Quality samples per direction of each session; default every `qualitySampleIntervalMs`, the newest 720 kept. */
  readonly sampling?: SamplingOptions;
}

export type ServiceState = 'running' | 'stopping' | 'stopped';

export class MediaNodeService {
  readonly config: NodeConfig;
  readonly registry: SessionRegistry;
  readonly ticker: FrameTicker;
  readonly cpu: CpuSampler;
  readonly endReporter: SessionEndReporter;
  readonly heartbeat: Heartbeat | undefined;
  readonly sipGateway: SipGateway;
  readonly startedAt = new Date();
  readonly #options: MediaNodeServiceOptions;
  readonly #logger: Logger;
  readonly #loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  #server: ControlServer | undefined;
  #state: ServiceState = 'running';
  #stopping: Promise<void> | undefined;

  private constructor(config: NodeConfig, options: MediaNodeServiceOptions) {
    this.config = config;
    this.#options = options;
    const logger = options.logger ?? silentLogger;
    this.#logger = logger;
    this.ticker = new FrameTicker({ logger });
    const client = new EdgeClient({ secret: config.secret });
    this.endReporter = new SessionEndReporter({
      client,
      url: config.edge.sessionEndedUrl,
      nodeId: config.nodeId,
      logger,
      ...(options.reportRetryDelaysMs === undefined ? {} : { retryDelaysMs: options.reportRetryDelaysMs }),
    });
    this.registry = new SessionRegistry({
      session: {
        browser: { ice: config.ice },
        pbx: { ports: new PortRange(config.rtp.portMin, config.rtp.portMax), bindAddress: config.pbx.bindAddress, address: config.pbx.publicAddress },
        ticker: this.ticker,
        logger,
        sampling: options.sampling ?? { intervalMs: config.qualitySampleIntervalMs },
      },
      mediaTimeoutMs: config.mediaTimeoutMs,
      maxSessions: config.maxSessions,
      logger,
      onEnd: (report) => this.endReporter.report(report),
    });
    this.sipGateway = new SipGateway({
      bindAddress: config.pbx.bindAddress,
      publicAddress: config.pbx.publicAddress,
      ports: config.sip.portRange === undefined ? undefined : new LinkPortRange(config.sip.portRange[0], config.sip.portRange[1]),
      pingIntervalMs: config.sip.pingIntervalMs,
      ...(options.sipTiming === undefined ? {} : { timing: options.sipTiming }),
      ...(options.sipLinkGraceMs === undefined ? {} : { graceMs: options.sipLinkGraceMs }),
      logger,
    });
    this.cpu = new CpuSampler({ sessionSeconds: () => this.registry.relayingSeconds() });
    const edgeUrl = config.edge.url;
    this.heartbeat =
      edgeUrl === undefined
        ? undefined
        : new Heartbeat({ client, url: `${edgeUrl}${HEARTBEAT_PATH}`, intervalMs: config.edge.heartbeatIntervalMs, body: () => this.heartbeatBody(), logger });
  }

  /** Starts listening and beating; throws if the control port cannot be bound. */
  static async start(config: NodeConfig, options: MediaNodeServiceOptions = {}): Promise<MediaNodeService> {
    const service = new MediaNodeService(config, options);
    service.#server = await ControlServer.listen(
      {
        routes: sessionRoutes(service.registry),
        upgrades: [
          {
            pattern: SIP_GATEWAY_PATH,
            accept: (request, socket, head, params) => {
              const problem = handshakeProblem(request);
              if (problem !== undefined) return problem;
              service.sipGateway.accept(params['id'] ?? '', new WebSocketConnection(request, socket, head));
              return undefined;
            },
          },
        ],
        signer: new RequestSigner(config.secret),
        replayGuard: new ReplayGuard(),
        health: () => ({ status: service.#state === 'running' ? 'ok' : 'shutting-down', node: config.nodeId, region: config.region, sessions: service.registry.openCount, capacity: config.maxSessions }),
        metrics: () => service.metrics(),
        metricsToken: config.control.metricsToken,
        tls: config.control.tls,
        logger: service.#logger,
      },
      config.control.host,
      config.control.port,
    );
    service.cpu.start();
    service.#loopDelay.enable();
    if (service.heartbeat === undefined) service.#logger.warn('no edge URL configured: no heartbeats, and session ends are only logged');
    service.heartbeat?.start();
    service.#logger.info('media node started', {
      node: config.nodeId,
      region: config.region,
      control: service.controlUrl,
      rtpPorts: `${config.rtp.portMin}-${config.rtp.portMax}`,
      pbxAddress: config.pbx.publicAddress,
      local: config.local,
      maxSessions: config.maxSessions,
    });
    return service;
  }

  get state(): ServiceState {
    return this.#state;
  }

  /** The port the control API listens on (useful with port 0). */
  get controlPort(): number {
    return this.#server?.port ?? this.config.control.port;
  }

  /** How the edge reaches the control API. */
  get controlUrl(): string {
    if (this.config.control.publicUrl !== undefined) return this.config.control.publicUrl;
    const host = this.config.control.host.includes(':') ? `[${this.config.control.host}]` : this.config.control.host;
    return `${this.config.control.tls === undefined ? 'http' : 'https'}://${host}:${this.controlPort}`;
  }

  metrics(): string {
    return renderNodeMetrics({
      nodeId: this.config.nodeId,
      region: this.config.region,
      registry: this.registry,
      ticker: this.ticker,
      cpu: this.cpu,
      cpuSeconds: processCpuSeconds,
      residentBytes: () => process.memoryUsage.rss(),
      control: this.#server?.counters,
      heartbeat: this.heartbeat?.counters,
      endReports: this.endReporter.counters,
      sipLinks: () => this.sipGateway.linkCount,
      eventLoopDelay: () => {
        const delay = { p99: this.#loopDelay.percentile(99) / 1e6, max: this.#loopDelay.max / 1e6 };
        this.#loopDelay.reset();
        return delay;
      },
      ...(this.#options.uncaughtErrors === undefined ? {} : { uncaughtErrors: this.#options.uncaughtErrors }),
    });
  }

  heartbeatBody(): Omit<HeartbeatBody, 'sentAt'> {
    const sessions = this.registry.openCount;
    return {
      nodeId: this.config.nodeId,
      region: this.config.region,
      state: this.#state === 'running' ? 'up' : 'stopping',
      controlUrl: this.controlUrl,
      pbxAddress: this.config.pbx.publicAddress,
      capacity: this.config.maxSessions,
      sessions,
      load: sessions / this.config.maxSessions,
      cpu: this.cpu.utilisation,
      startedAt: this.startedAt.toISOString(),
    };
  }

  /** Graceful shutdown (idempotent). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping';
    const open = this.registry.openCount;
    this.#logger.info('media node stopping', { sessions: open });
    await this.heartbeat?.stop();
    await this.registry.closeAll();
    await this.endReporter.flush(this.#options.shutdownReportDeadlineMs ?? 5000);
    // Tells the edge at once, rather than after missed heartbeats, that this node takes no calls.
    await this.heartbeat?.beatOnce();
    await this.sipGateway.close();
    await this.#server?.close();
    this.cpu.stop();
    this.#loopDelay.disable();
    this.ticker.stop();
    this.#state = 'stopped';
    this.#logger.info('media node stopped', { endedSessions: open, unreportedEnds: this.endReporter.counters.failed });
  }
}
