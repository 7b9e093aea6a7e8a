/**
 * Where the browser leg's ICE agent (RFC 8445) gathers candidates, as werift configuration.
 *
 * werift enumerates the host's interfaces and skips loopback unless told otherwise; sipedge wants
 * the opposite control: gather on exactly the addresses the operator names, and nothing else, so a
 * local run offers a single 127.0.0.1 host candidate (FIELD-NOTES "Browsers in tests") and a
 * production node never leaks an internal address. No STUN or TURN server unless configured: a
 * media node has a known address, and a reflexive lookup would leave the machine.
 */
import type { PeerConfig } from 'werift';

export interface BrowserIceOptions {
  /**
   * The host addresses to gather candidates on, and only those; `'all-interfaces'` lets werift
   * enumerate every non-loopback interface. Default `['127.0.0.1']`: local mode.
   */
  readonly hostAddresses?: readonly string[] | 'all-interfaces';
  /** UDP port range for ICE sockets, inclusive; default any ephemeral port. */
  readonly portRange?: readonly [number, number];
  /** RFC 8445 §2.5 lite agent: answers checks, never starts them; only for public addresses. */
  readonly lite?: boolean;
  /** `stun:host:port` URLs; default none. */
  readonly stunServers?: readonly string[];
}

export const LOOPBACK_ONLY: readonly string[] = ['127.0.0.1'];

/** The werift `PeerConfig` subset that implements `options`. */
export function weriftIceConfig(options: BrowserIceOptions = {}): Partial<PeerConfig> {
  const hosts = options.hostAddresses ?? LOOPBACK_ONLY;
  const base: Partial<PeerConfig> = {
    iceServers: (options.stunServers ?? []).map((url) => ({ urls: url })),
    iceUseTcp: false,
    iceLite: options.lite ?? false,
    icePortRange: options.portRange === undefined ? undefined : [options.portRange[0], options.portRange[1]],
  };
  if (hosts === 'all-interfaces') return { ...base, iceUseIpv4: true, iceUseIpv6: true };
  const v4 = hosts.filter((address) => !address.includes(':'));
  const v6 = hosts.filter((address) => address.includes(':'));
  return {
    ...base,
    // Enumeration off: werift then gathers on the additional addresses alone.
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [...hosts],
    // With one address per family the sockets bind to it, so nothing listens on other interfaces;
    // with several, werift binds the wildcard address, and only the named ones are advertised.
    iceInterfaceAddresses: {
      ...(v4.length === 1 ? { udp4: v4[0] as string } : {}),
      ...(v6.length === 1 ? { udp6: v6[0] as string } : {}),
    },
  };
}
