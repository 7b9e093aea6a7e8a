/**
 * Kamailio as the PBX that calls go through: the registrar of the PBX link (TCP) and of its
 * extensions (baresip over UDP), and the proxy between them, with digest auth and no database.
 *
 * The link comes over TCP, over UDP through a media node's gateway to a listener of its own
 * (`linkUdpPort`), or over secure WebSocket (`wssPort`); "over TCP" below means any of them.
 * - REGISTER: challenged (401), then saved; over TCP `fix_nated_register`, since the link's
 *   Contact host is `.invalid` and only its connection leads back to it.
 * - INVITE from the link (TCP): challenged with 407 (the link answers with its credentials), then
 *   routed by `lookup("location")` to the extension. INVITE from an extension (UDP): routed to
 *   the AOR it dialled, e.g. the link's, whose binding leads back over the link's connection.
 * - Every call is record-routed; the link's Contact in its requests and answers is rewritten to
 *   its connection's address (`fix_nated_contact`), so requests within the dialog find the link.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeCertificates, type TestCertificates } from './certificates.ts';
import { freePort, waitForPort } from './net.ts';

const run = promisify(execFile);

export interface RunningPbx {
  readonly tcpPort: number;
  /** Where the extensions register and send from. */
  readonly udpPort: number;
  /** A UDP listener for the link alone (through a media node's SIP/UDP gateway), treated as the TCP one. */
  readonly linkUdpPort: number;
  /** SIP over secure WebSocket (RFC 7118) for the link, with a certificate from the test's CA. */
  readonly wssPort: number;
  /** That CA (PEM), for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  /** The AORs with a binding now (`kamcmd ul.dump`). */
  registered(): Promise<string>;
  /** The WebSocket connections open now (`kamcmd ws.dump`). */
  webSockets(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

interface Ports {
  readonly tcpPort: number;
  readonly udpPort: number;
  readonly linkUdpPort: number;
  readonly wssPort: number;
}

function config(users: Readonly<Record<string, string>>, directory: string, certificates: TestCertificates, { tcpPort, udpPort, linkUdpPort, wssPort }: Ports): string {
  const creds = Object.entries(users)
    .map(([user, password]) => `\tif ($au == "${user}") { $var(pw) = "${password}"; return; }`)
    .join('\n');
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=2
tcp_children=2
auto_aliases=no
alias="127.0.0.1:${tcpPort}"
alias="127.0.0.1:${udpPort}"
alias="127.0.0.1:${linkUdpPort}"
alias="127.0.0.1:${wssPort}"
disable_core_dump=yes
listen=tcp:127.0.0.1:${tcpPort}
listen=udp:127.0.0.1:${udpPort}
listen=udp:127.0.0.1:${linkUdpPort}
enable_tls=yes
listen=tls:127.0.0.1:${wssPort}
dns=no
rev_dns=no
use_dns_cache=off
tcp_accept_no_cl=yes
server_header="Server: sipedge-test-pbx"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
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
	xlog("L_INFO", "REQ $rm $ru from $proto:$si:$sp to $Rp\\n");
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!sanity_check()) { exit; }
	force_rport();
	$var(link) = 0;
	if ($proto == "tcp" || $proto == "wss" || $Rp == ${linkUdpPort}) { $var(link) = 1; }
	if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "Keepalive"); exit; }
	if ($var(link) == 1 && is_method("INVITE|UPDATE")) { fix_nated_contact(); }
	if (has_totag()) {
		if (loose_route()) { route(RELAY); }
		if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) { route(RELAY); } exit; }
	t_check_trans();
	if (is_method("REGISTER")) {
		if ($var(link) == 1) { fix_nated_register(); }
		if (!is_present_hf("Authorization")) { www_challenge("$td", "1"); exit; }
		route(CREDS);
		if (!pv_www_authenticate("$td", "$var(pw)", "0")) { www_challenge("$td", "1"); exit; }
		if ($au != $tU) { sl_send_reply("403", "Auth ID mismatch"); exit; }
		consume_credentials();
		if (!save("location")) { sl_reply_error(); }
		exit;
	}
	if (!is_method("INVITE")) { sl_send_reply("501", "Not Implemented"); exit; }
	if ($var(link) == 1) {
		if (!is_present_hf("Proxy-Authorization")) { proxy_challenge("$fd", "1"); exit; }
		route(CREDS);
		if (!pv_proxy_authenticate("$fd", "$var(pw)", "0")) { proxy_challenge("$fd", "1"); exit; }
		consume_credentials();
	}
	record_route();
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
	route(RELAY);
}

route[RELAY] {
	if (is_method("INVITE|UPDATE")) { t_on_reply("FROM_LINK"); }
	if (!t_relay()) { sl_reply_error(); }
	exit;
}

onreply_route[FROM_LINK] {
	$var(link) = 0;
	if ($proto == "tcp" || $proto == "wss" || $Rp == ${linkUdpPort}) { $var(link) = 1; }
	if ($var(link) == 1) { fix_nated_contact(); }
}

event_route[xhttp:request] {
	if ($Rp == ${wssPort} && $hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm == "GET") {
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

export async function startPbx(users: Readonly<Record<string, string>>): Promise<RunningPbx> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-pbx-'));
  const certificates = await makeCertificates(directory, 'pbx');
  const ports: Ports = { tcpPort: await freePort(), udpPort: await freePort(), linkUdpPort: await freePort(), wssPort: await freePort() };
  const { tcpPort, udpPort, linkUdpPort, wssPort } = ports;
  const file = join(directory, 'kamailio.cfg');
  writeFileSync(file, config(users, directory, certificates, ports));
  await run('/usr/sbin/kamailio', ['-c', '-f', file, '-Y', directory]);
  let log = '';
  const child: ChildProcess = spawn('/usr/sbin/kamailio', ['-f', file, '-Y', directory, '-P', join(directory, 'kamailio.pid'), '-DD', '-E', '-m', '64', '-M', '8'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(tcpPort, 10_000);
    await waitForPort(wssPort, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`kamailio did not start: ${String(error)}\n${log}`);
  }
  return {
    tcpPort,
    udpPort,
    linkUdpPort,
    wssPort,
    caPath: certificates.caPath,
    async registered() {
      const { stdout } = await run('/usr/sbin/kamcmd', ['-s', `unix:${directory}/kamailio_ctl`, 'ul.dump'], { timeout: 5_000 });
      return stdout;
    },
    async webSockets() {
      const { stdout } = await run('/usr/sbin/kamcmd', ['-s', `unix:${directory}/kamailio_ctl`, 'ws.dump'], { timeout: 5_000 });
      return stdout;
    },
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (process.env.SIPEDGE_KEEP_PEER_LOGS === undefined) rmSync(directory, { recursive: true, force: true });
      else process.stderr.write(`kamailio files kept in ${directory}\n`);
    },
  };
}
