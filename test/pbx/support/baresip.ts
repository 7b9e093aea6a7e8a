/**
 * baresip as a PBX extension: registered over UDP to the test's Kamailio, answering every call at
 * once (`answermode=auto`), PCMU only, playing a 440 Hz tone from a WAV file (its `ausine` source
 * runs at 48 kHz only, FIELD-NOTES), and dumping what it hears to WAV files (`sndfile`). The test
 * drives it over `ctrl_tcp` (netstring-framed JSON commands: `dial`, `hangup`) and reads its call
 * events from the same socket. Everything lives in a temporary folder; the process is stopped by
 * its own handle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.ts';

export interface BaresipOptions {
  readonly user: string;
  readonly password: string;
  /** Kamailio's UDP port on 127.0.0.1. */
  readonly registrarPort: number;
}

export interface BaresipEvent {
  readonly type: string;
  readonly peeruri?: string;
  readonly param?: string;
}

export interface RunningBaresip {
  /** Runs a command (`dial sip:...`, `hangup`); resolves to its answer's data. */
  command(line: string): Promise<string>;
  /** Resolves with the first event of `type` from now on, or one already seen after `since`; rejects after `timeoutMs`. */
  event(type: string, timeoutMs: number, since?: number): Promise<BaresipEvent>;
  /** How many events arrived so far (a mark for `event`). */
  mark(): number;
  /** The RMS level (0..1) of the audio it heard in its last call (the newest `-dec` dump), and how many samples. */
  heard(): { readonly rms: number; readonly samples: number };
  log(): string;
  stop(): Promise<void>;
}

/** An 8 kHz 16-bit mono WAV of a sine tone. */
function toneWav(seconds: number, frequency: number): Buffer {
  const rate = 8000;
  const samples = rate * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) data.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * frequency * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** The RMS of a 16-bit PCM WAV's samples, from its `data` chunk. */
function wavLevel(file: Buffer): { rms: number; samples: number } {
  const at = file.indexOf('data', 12);
  if (at < 0) return { rms: 0, samples: 0 };
  const start = at + 8;
  const samples = Math.floor((file.length - start) / 2);
  let sum = 0;
  for (let i = 0; i < samples; i += 1) {
    const value = file.readInt16LE(start + i * 2) / 32768;
    sum += value * value;
  }
  return { rms: samples === 0 ? 0 : Math.sqrt(sum / samples), samples };
}

export async function startBaresip(options: BaresipOptions): Promise<RunningBaresip> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-baresip-'));
  const [sipPort, controlPort] = [await freePort(), await freePort()];
  const rtpBase = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(join(directory, 'tone.wav'), toneWav(120, 440));
  writeFileSync(
    join(directory, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      `rtp_ports ${rtpBase}-${rtpBase + 99}`,
      'rtp_timeout 0',
      `audio_source aufile,${join(directory, 'tone.wav')}`,
      'audio_player aubridge,nowhere',
      'audio_alert aubridge,nowhere',
      'ausrc_srate 8000',
      'auplay_srate 8000',
      'ausrc_channels 1',
      'auplay_channels 1',
      `snd_path ${directory}`,
      `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(directory, 'accounts'),
    `<sip:${options.user}@127.0.0.1>;auth_pass=${options.password};outbound="sip:127.0.0.1:${options.registrarPort};transport=udp";regint=600;answermode=auto;audio_codecs=PCMU\n`,
  );
  let log = '';
  const child: ChildProcess = spawn('/usr/bin/baresip', ['-f', directory], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(controlPort, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`baresip did not start: ${String(error)}\n${log}`);
  }
  const socket: Socket = createConnection({ host: '127.0.0.1', port: controlPort });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const events: BaresipEvent[] = [];
  const waiters: { type: string; from: number; resolve: (event: BaresipEvent) => void }[] = [];
  const answers = new Map<string, (data: string) => void>();
  let buffer = '';
  socket.setEncoding('utf8').on('data', (text: string) => {
    buffer += text;
    for (;;) {
      const colon = buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(buffer.slice(0, colon));
      if (buffer.length < colon + 1 + length + 1) return;
      const body = buffer.slice(colon + 1, colon + 1 + length);
      buffer = buffer.slice(colon + 1 + length + 1);
      const message = JSON.parse(body) as { event?: boolean; type?: string; response?: boolean; token?: string; data?: string; peeruri?: string; param?: string };
      if (message.response === true && message.token !== undefined) answers.get(message.token)?.(message.data ?? '');
      if (message.event === true && message.type !== undefined) {
        const event: BaresipEvent = { type: message.type, ...(message.peeruri === undefined ? {} : { peeruri: message.peeruri }), ...(message.param === undefined ? {} : { param: message.param }) };
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.type !== event.type) continue;
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    }
  });
  let tokens = 0;
  return {
    command(line) {
      const space = line.indexOf(' ');
      const token = `t${(tokens += 1)}`;
      const body = JSON.stringify({ command: space < 0 ? line : line.slice(0, space), params: space < 0 ? '' : line.slice(space + 1), token });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`baresip ${line}: no answer\n${log}`)), 5_000);
        answers.set(token, (data) => {
          clearTimeout(timer);
          resolve(data);
        });
        socket.write(`${Buffer.byteLength(body)}:${body},`);
      });
    },
    event(type, timeoutMs, since) {
      if (since !== undefined) {
        const seen = events.slice(since).find((event) => event.type === type);
        if (seen !== undefined) return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const waiter = { type, from: events.length, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index < 0) return;
          waiters.splice(index, 1);
          reject(new Error(`baresip: no ${type} within ${timeoutMs} ms; events: ${events.map((event) => event.type).join(', ')}\n${log.slice(-3000)}`));
        }, timeoutMs);
      });
    },
    mark: () => events.length,
    heard() {
      const dumps = readdirSync(directory).filter((name) => name.startsWith('dump-') && name.endsWith('-dec.wav')).sort();
      const newest = dumps.at(-1);
      return newest === undefined ? { rms: 0, samples: 0 } : wavLevel(readFileSync(join(directory, newest)));
    },
    log: () => log,
    async stop() {
      socket.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (process.env.SIPEDGE_KEEP_PEER_LOGS === undefined) rmSync(directory, { recursive: true, force: true });
      else process.stderr.write(`baresip files kept in ${directory}\n`);
    },
  };
}
