/**
 * The console's ladder model (workers/web/src/console/ladder.ts) on hand-made trace records: dialogs
 * grouped by Call-ID with their method and other party, the other party's leg found in their trace,
 * and each message put between the right lanes with its label.
 */
import { describe, expect, it } from 'vitest';
import { callsOf, ladderMessages, peerLeg, type TraceRecord } from '../../workers/web/src/console/ladder.ts';

function record(at: number, direction: 'in' | 'out', callId: string, startLine: string, headers: string[] = []): TraceRecord {
  const message = [startLine, `Call-ID: ${callId}`, ...headers, 'Content-Length: 0', '', ''].join('\r\n');
  return { at, direction, transport: 'WS', flow: 'flow-1', callId, summary: startLine, message, bytes: message.length };
}

// bob's trace: the edge offers alice's call to bob's device; bob answers; alice hangs up.
const bob: TraceRecord[] = [
  record(1_000, 'in', 'reg-1', 'REGISTER sip:example.test SIP/2.0', ['From: <sip:bob@example.test>;tag=1', 'To: <sip:bob@example.test>']),
  record(1_001, 'out', 'reg-1', 'SIP/2.0 200 OK'),
  record(5_000, 'out', 'call-b', 'INVITE sip:bob@example.test SIP/2.0', ['From: "Alice" <sip:alice@example.test>;tag=a', 'To: <sip:bob@example.test>']),
  record(5_010, 'in', 'call-b', 'SIP/2.0 180 Ringing'),
  record(6_000, 'in', 'call-b', 'SIP/2.0 200 OK'),
  record(6_010, 'out', 'call-b', 'ACK sip:bob@example.test SIP/2.0'),
  record(9_000, 'out', 'call-b', 'BYE sip:bob@example.test SIP/2.0'),
  record(9_010, 'in', 'call-b', 'SIP/2.0 200 OK'),
];

// alice's trace: an earlier call to carol, then the call to bob (with its 407 challenge).
const alice: TraceRecord[] = [
  record(2_000, 'in', 'call-c', 'INVITE sip:carol@example.test SIP/2.0', ['From: <sip:alice@example.test>;tag=x', 'To: <sip:carol@example.test>']),
  record(2_010, 'out', 'call-c', 'SIP/2.0 486 Busy Here'),
  record(4_990, 'in', 'call-a', 'INVITE sip:bob@example.test SIP/2.0', ['f: <sip:alice@example.test>;tag=y', 't: <sip:bob@example.test>']),
  record(4_995, 'out', 'call-a', 'SIP/2.0 407 Proxy Authentication Required'),
  record(6_005, 'out', 'call-a', 'SIP/2.0 200 OK'),
  record(8_990, 'in', 'call-a', 'BYE sip:bob@example.test SIP/2.0'),
];

describe('the trace ladder', () => {
  it('groups a trace by Call-ID, calls first and newest first, with the other party', () => {
    const calls = callsOf(bob);
    expect(calls.map((call) => [call.callId, call.method, call.peer])).toEqual([
      ['call-b', 'INVITE', 'alice'],
      ['reg-1', 'REGISTER', 'bob'],
    ]);
    expect(callsOf(alice).map((call) => [call.callId, call.peer])).toEqual([
      ['call-a', 'bob'],
      ['call-c', 'carol'],
    ]);
  });

  it("finds the other party's leg: same method, naming the user, started within 10 s", () => {
    const call = callsOf(bob)[0];
    if (call === undefined) throw new Error('no call');
    expect(peerLeg(call, 'bob', alice)?.callId).toBe('call-a');
    expect(peerLeg(call, 'bob', alice.map((entry) => ({ ...entry, at: entry.at + 60_000 })))).toBeUndefined();
    expect(peerLeg(call, 'dave', alice)).toBeUndefined();
  });

  it('puts each message between its lanes, in time order, labelled with its method or status', () => {
    const [call] = callsOf(bob);
    if (call === undefined) throw new Error('no call');
    const messages = ladderMessages(call, peerLeg(call, 'bob', alice));
    expect(messages.map((message) => `${message.from}>${message.to} ${message.label} ${message.kind}`)).toEqual([
      'peer>edge INVITE request',
      'edge>peer 407 Proxy Authentication Required error',
      'edge>device INVITE request',
      'device>edge 180 Ringing response',
      'device>edge 200 OK response',
      'edge>peer 200 OK response',
      'edge>device ACK request',
      'peer>edge BYE request',
      'edge>device BYE request',
      'device>edge 200 OK response',
    ]);
    expect(messages[0]?.text).toMatch(/^INVITE sip:bob@example\.test SIP\/2\.0\r\n/);
  });
});
