/**
 * Kamailio as the PBX a PbxLink registers to: a registrar with digest auth and no database (the
 * reference rig's `route[CREDS]`, with the test's users), TCP and TLS listeners on free ports of
 * 127.0.0.1 (and UDP, for a link through a media node's gateway, and SIP over secure WebSocket,
 * RFC 7118, on a TLS port of its own), and a certificate made by openssl (from a CA of the test's own) for the TLS one. Everything lives in a
 * temporary folder; the process is started with its own pid file and stopped by its pid.
 *
 * Differences from the rig's config, each on purpose:
 * - `handle_lost_tcp` is off, so that a binding disappears only when the link unregisters (the
 *   test of expires=0 would otherwise pass on the connection closing);
 * - `min_expires` is 1, so that refreshes can be watched in seconds.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeCertificates, type TestCertificates } from './certificates.ts';
import { freePort, waitForPort } from './net.ts';

const run = promisify(execFile);

export interface KamailioOptions {
  /** Digest users (auth username = To user) and their passwords. */
  readonly users: Readonly<Record<string, string>>;
}

export interface Binding {
  readonly aor: string;
  readonly address: string;
  readonly expires: number;
  readonly cseq: number;
  readonly callId: string;
  readonly received?: string;
}

export interface RunningKamailio {
  readonly tcpPort: number;
  readonly tlsPort: number;
  readonly udpPort: number;
  /** The WSS listener (WebSocket handshake on `WSS_PATH` only, the `sip` subprotocol). */
  readonly wssPort: number;
  /** The CA that issued the TLS listener's certificate (PEM), for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  /** The current bindings, from `kamcmd ul.dump`. */
  bindings(): Promise<Binding[]>;
  /** Kamailio's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** The one path the WSS listener takes a WebSocket handshake on (anything else: 404). */
export const WSS_PATH = '/sip-ws';

function config(options: KamailioOptions, directory: string, certificates: TestCertificates, tcpPort: number, tlsPort: number, udpPort: number, wssPort: number): string {
  const creds = Object.entries(options.users)
    .map(([user, password]) => `\tif ($au == "${user}") { $var(pw) = "${password}"; return; }`)
    .join('\n');
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=2
auto_aliases=no
disable_core_dump=yes
listen=tcp:127.0.0.1:${tcpPort}
listen=udp:127.0.0.1:${udpPort}
enable_tls=yes
listen=tls:127.0.0.1:${tlsPort}
listen=tls:127.0.0.1:${wssPort}
dns=no
rev_dns=no
use_dns_cache=off
tcp_accept_no_cl=yes
server_header="Server: sipedge-test-kamailio"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "auth.so"
loadmodule "nathelper.so"
loadmodule "tls.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"

modparam("ctl", "binrpc", "unix:${directory}/kamailio_ctl")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "handle_lost_tcp", 0)
modparam("registrar", "min_expires", 1)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "natping_interval", 0)
modparam("auth", "nonce_expire", 300)
modparam("tls", "private_key", "${certificates.keyPath}")
modparam("tls", "certificate", "${certificates.certPath}")
modparam("tls", "tls_method", "TLSv1.2+")
modparam("tls", "verify_certificate", 0)
modparam("tls", "require_certificate", 0)

request_route {
	xlog("L_INFO", "REQ $rm $ru from $proto:$si:$sp cseq=$cs expires=$hdr(Expires)\\n");
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!sanity_check()) { exit; }
	force_rport();
	if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "Keepalive"); exit; }
	if (!is_method("REGISTER")) { sl_send_reply("501", "Not Implemented"); exit; }
	if (nat_uac_test("19")) { fix_nated_register(); }
	if (!is_present_hf("Authorization")) { www_challenge("$td", "1"); exit; }
	route(CREDS);
	if (!pv_www_authenticate("$td", "$var(pw)", "0")) { www_challenge("$td", "1"); exit; }
	if ($au != $tU) { sl_send_reply("403", "Auth ID mismatch"); exit; }
	consume_credentials();
	if (!save("location")) { sl_reply_error(); }
	exit;
}

event_route[xhttp:request] {
	if ($Rp == ${wssPort} && $hu == "${WSS_PATH}" && $hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm == "GET") {
		if (ws_handle_handshake()) { exit; }
	}
	xhttp_reply("404", "Not Found", "", "");
}

route[CREDS] {
	$var(pw) = "";
${creds}
	sl_send_reply("403", "Unknown user");
	exit;
}
`;
}

/** Lines of `kamcmd ul.dump` turned into bindings (AoR, then each contact's fields). */
function parseUlDump(text: string): Binding[] {
  const bindings: Binding[] = [];
  let aor = '';
  let current: Record<string, string> | undefined;
  const flush = (): void => {
    if (current?.Address === undefined) return;
    bindings.push({
      aor,
      address: current.Address,
      expires: Number(current.Expires),
      cseq: Number(current.CSeq),
      callId: current['Call-ID'] ?? '',
      ...(current.Received === undefined || current.Received === '[not set]' ? {} : { received: current.Received }),
    });
  };
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match === null) continue;
    const [, key = '', value = ''] = match;
    if (key === 'AoR') aor = value.trim();
    if (key === 'Contact') {
      flush();
      current = {};
    } else if (current !== undefined) {
      current[key] = value.trim();
    }
  }
  flush();
  return bindings;
}

export async function startKamailio(options: KamailioOptions): Promise<RunningKamailio> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-kamailio-'));
  const certificates = await makeCertificates(directory, 'kamailio');
  const [tcpPort, tlsPort, udpPort, wssPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const file = join(directory, 'kamailio.cfg');
  writeFileSync(file, config(options, directory, certificates, tcpPort, tlsPort, udpPort, wssPort));
  await run('/usr/sbin/kamailio', ['-c', '-f', file, '-Y', directory]);
  const logFile = join(directory, 'kamailio.log');
  let log = '';
  const child: ChildProcess = spawn('/usr/sbin/kamailio', ['-f', file, '-Y', directory, '-P', join(directory, 'kamailio.pid'), '-DD', '-E', '-m', '64', '-M', '8'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(tcpPort, 10_000);
    await waitForPort(tlsPort, 10_000);
    await waitForPort(wssPort, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`kamailio did not start: ${String(error)}\n${log}`);
  }
  return {
    tcpPort,
    tlsPort,
    udpPort,
    wssPort,
    caPath: certificates.caPath,
    async bindings() {
      const { stdout } = await run('/usr/sbin/kamcmd', ['-s', `unix:${directory}/kamailio_ctl`, 'ul.dump'], { timeout: 5_000 });
      return parseUlDump(stdout);
    },
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        // -DD keeps the main process attached; SIGTERM makes it stop its children too.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      writeFileSync(logFile, log);
      if (process.env.SIPEDGE_KEEP_PEER_LOGS === undefined) rmSync(directory, { recursive: true, force: true });
      else process.stderr.write(`kamailio files kept in ${directory}\n`);
    },
  };
}
