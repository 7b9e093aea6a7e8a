/**
 * Real SIP and browser peers from Debian that integration tests drive. A test that needs one calls
 * `peerAvailable(name)`; when the peer is missing the test is skipped with a loud message, unless
 * `SIPEDGE_REQUIRE_PEERS=1` (as in CI), where a missing peer fails the run instead.
 */
import { accessSync, constants } from 'node:fs';

export const PEERS = {
  sipp: { binary: '/usr/bin/sipp', debianPackage: 'sip-tester' },
  kamailio: { binary: '/usr/sbin/kamailio', debianPackage: 'kamailio kamailio-tls-modules kamailio-websocket-modules' },
  chromium: { binary: '/usr/bin/chromium', debianPackage: 'chromium' },
  baresip: { binary: '/usr/bin/baresip', debianPackage: 'baresip' },
  tshark: { binary: '/usr/bin/tshark', debianPackage: 'tshark' },
} as const;

export type PeerName = keyof typeof PEERS;

export function peersRequired(): boolean {
  return process.env.SIPEDGE_REQUIRE_PEERS === '1';
}

export function isInstalled(name: PeerName): boolean {
  try {
    accessSync(PEERS[name].binary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the peer can be used; false (after a loud warning) when the test should skip. Throws when peers are required. */
export function peerAvailable(name: PeerName): boolean {
  if (isInstalled(name)) return true;
  const { binary, debianPackage } = PEERS[name];
  const message = `${name} (${binary}) is not installed: apt-get install ${debianPackage}`;
  if (peersRequired()) throw new Error(`SIPEDGE_REQUIRE_PEERS=1 but ${message}`);
  process.stderr.write(`\n!!! SKIPPING tests that need ${message}\n\n`);
  return false;
}
