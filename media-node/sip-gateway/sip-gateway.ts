/**
 * The SIP/UDP gateway for PbxLinks (Workers cannot send UDP): the edge's PbxLink opens a signed
 * WebSocket to `/v1/sip-gateway/links/:linkId` on the control server, says which PBX to talk to,
 * and from then on sends and receives SIP messages as JSON frames (`gateway-protocol.ts`) while the
 * link's UDP socket (`sip-link.ts`) does the retransmissions.
 *
 *   connect -> open { pbx } -> opened { local, pbx, resumed } -> send / received / timeout ...
 *
 * A link outlives its WebSocket for `graceMs`: a PbxLink that reconnects (a new Durable Object
 * instance, a network blip) gets the same UDP port back (`resumed: true`, its registration's
 * Contact stays true) with the frames that arrived meanwhile (at most `maxHeld`, oldest dropped).
 * A second connection for a link replaces the first (closed with 4000). `close` ends the link.
 * The gateway pings each WebSocket every `pingIntervalMs`; one that stops answering is dropped, so
 * a dead edge connection starts the grace period rather than holding the link for ever.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { silentLogger, type Logger } from '../logger.ts';
import { edgeFrame, type GatewayFrame, type TransportAddress } from './gateway-protocol.ts';
import { LinkPortsExhaustedError, type LinkPortRange } from './link-port-range.ts';
import { SipLink, type LinkTimers, type SipTiming } from './sip-link.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

export const SIP_GATEWAY_PATH = /^\/v1\/sip-gateway\/links\/(?<id>[A-Za-z0-9._~-]{1,128})$/;

export interface SipGatewayOptions {
  readonly bindAddress: string;
  readonly publicAddress: string;
  /** Where links' UDP ports come from; default any free port. */
  readonly ports?: LinkPortRange | undefined;
  /** WebSocket pings to the edge; three unanswered close the connection. Default 15 s. */
  readonly pingIntervalMs?: number;
  readonly timing?: SipTiming;
  readonly timers?: LinkTimers;
  /** How long a link without a WebSocket keeps its socket; default 120 s. */
  readonly graceMs?: number;
  /** Frames held for a disconnected link; default 200. */
  readonly maxHeld?: number;
  readonly logger?: Logger;
}

interface LinkEntry {
  readonly link: SipLink;
  connection: WebSocketConnection | undefined;
  held: GatewayFrame[];
  grace: ReturnType<typeof setTimeout> | undefined;
}

export class SipGateway {
  readonly #options: SipGatewayOptions;
  readonly #logger: Logger;
  readonly #links = new Map<string, LinkEntry>();
  /** Links being opened, so two `open`s for one id make one socket. */
  readonly #opening = new Map<string, Promise<LinkEntry>>();

  constructor(options: SipGatewayOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  get linkCount(): number {
    return this.#links.size;
  }

  /** The link's bound port, for tests and logs. */
  link(id: string): SipLink | undefined {
    return this.#links.get(id)?.link;
  }

  /** A signed WebSocket for link `id`, its handshake done. */
  accept(id: string, connection: WebSocketConnection): void {
    let entry: LinkEntry | undefined;
    const send = (frame: GatewayFrame): void => connection.sendText(JSON.stringify(frame));
    connection.keepAlive(this.#options.pingIntervalMs ?? 15_000);
    // Frames are handled one after another: an `open` still binding its socket comes before a `send`.
    let handled = Promise.resolve();
    connection.attach({
      onText: (text) => {
        handled = handled
          .then(() =>
            this.#onFrame(id, connection, text, send, () => entry, (opened) => {
              entry = opened;
            }),
          )
          .catch((error: unknown) => {
            this.#logger.error('sip gateway frame failed', { link: id, error: String(error) });
          });
      },
      onClose: (code, reason) => {
        this.#logger.info('sip link websocket closed', { link: id, code, reason });
        if (entry !== undefined && entry.connection === connection) this.#detach(id, entry);
      },
    });
  }

  async close(): Promise<void> {
    const entries = [...this.#links.values()];
    this.#links.clear();
    for (const entry of entries) {
      if (entry.grace !== undefined) clearTimeout(entry.grace);
      entry.connection?.close(1001, 'the media node is shutting down');
    }
    await Promise.all(entries.map((entry) => entry.link.close()));
  }

  async #onFrame(
    id: string,
    connection: WebSocketConnection,
    text: string,
    send: (frame: GatewayFrame) => void,
    current: () => LinkEntry | undefined,
    opened: (entry: LinkEntry) => void,
  ): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      send({ type: 'error', reason: 'invalid-frame', detail: 'a frame is one JSON object' });
      return;
    }
    const parsed = edgeFrame.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(frame)'}: ${issue.message}`).join('; ');
      send({ type: 'error', reason: 'invalid-frame', detail });
      return;
    }
    const frame = parsed.data;
    const entry = current();
    switch (frame.type) {
      case 'open': {
        const pbx = await resolve(frame.pbx.host, frame.pbx.port);
        if (pbx === undefined) {
          send({ type: 'error', reason: 'pbx-unresolved', detail: `${frame.pbx.host} has no address` });
          return;
        }
        let attachedLink: { entry: LinkEntry; resumed: boolean };
        try {
          attachedLink = await this.#attach(id, pbx, connection);
        } catch (error) {
          if (!(error instanceof LinkPortsExhaustedError)) throw error;
          // RFC 6455 §7.4.1 1013, try again later: the edge may take the link to another node.
          send({ type: 'error', reason: 'no-udp-port', detail: error.message });
          connection.close(1013, 'no free UDP port for the link');
          return;
        }
        const { entry: attached, resumed } = attachedLink;
        opened(attached);
        send({ type: 'opened', local: attached.link.local, pbx, resumed });
        for (const held of attached.held.splice(0)) send(held);
        return;
      }
      case 'send': {
        if (entry === undefined) {
          send({ type: 'error', reason: 'not-open', detail: 'send an open frame first' });
          return;
        }
        const problem = entry.link.send(frame.message, frame.id);
        if (problem !== undefined) send({ type: 'error', reason: 'bad-sip', detail: problem });
        return;
      }
      case 'close': {
        if (entry !== undefined) {
          this.#links.delete(id);
          if (entry.grace !== undefined) clearTimeout(entry.grace);
          await entry.link.close();
        }
        connection.close(1000, 'link closed');
      }
    }
  }

  async #attach(id: string, pbx: TransportAddress, connection: WebSocketConnection): Promise<{ entry: LinkEntry; resumed: boolean }> {
    let entry = this.#links.get(id);
    const resumed = entry !== undefined;
    if (entry === undefined) {
      let opening = this.#opening.get(id);
      if (opening === undefined) {
        opening = SipLink.open(id, pbx, {
          bindAddress: this.#options.bindAddress,
          publicAddress: this.#options.publicAddress,
          ports: this.#options.ports,
          ...(this.#options.timing === undefined ? {} : { timing: this.#options.timing }),
          ...(this.#options.timers === undefined ? {} : { timers: this.#options.timers }),
          logger: this.#logger,
        }).then((link) => ({ link, connection: undefined, held: [], grace: undefined }));
        this.#opening.set(id, opening);
      }
      try {
        entry = await opening;
      } finally {
        this.#opening.delete(id);
      }
      this.#links.set(id, entry);
      this.#logger.info('sip link opened', { link: id, local: entry.link.local, pbx });
    }
    entry.link.pbx = pbx;
    if (entry.grace !== undefined) clearTimeout(entry.grace);
    entry.grace = undefined;
    const previous = entry.connection;
    entry.connection = connection;
    if (previous !== undefined && previous !== connection) previous.close(4000, 'replaced by a newer connection for this link');
    const attached = entry;
    entry.link.sink = (frame) => {
      if (attached.connection === connection && connection.open) connection.sendText(JSON.stringify(frame));
      else this.#hold(attached, frame);
    };
    return { entry, resumed };
  }

  #detach(id: string, entry: LinkEntry): void {
    entry.connection = undefined;
    entry.link.sink = (frame) => this.#hold(entry, frame);
    const graceMs = this.#options.graceMs ?? 120_000;
    entry.grace = setTimeout(() => {
      if (this.#links.get(id) !== entry || entry.connection !== undefined) return;
      this.#links.delete(id);
      this.#logger.info('sip link closed: no WebSocket within the grace period', { link: id });
      void entry.link.close();
    }, graceMs);
    entry.grace.unref();
  }

  #hold(entry: LinkEntry, frame: GatewayFrame): void {
    entry.held.push(frame);
    const max = this.#options.maxHeld ?? 200;
    if (entry.held.length > max) entry.held.splice(0, entry.held.length - max);
  }
}

/** `host` as an IP address (a name is looked up once, at open). */
async function resolve(host: string, port: number): Promise<TransportAddress | undefined> {
  if (isIP(host) !== 0) return { address: host, port };
  try {
    const { address } = await lookup(host);
    return { address, port };
  } catch {
    return undefined;
  }
}
