/**
 * sipp as a PBX that lights a message-waiting lamp (RFC 3842): it takes the link's REGISTER (200,
 * the Contact echoed), then sends an unsolicited NOTIFY (`Event: message-summary`, no dialog, as
 * Asterisk does for a mailbox) on the same connection to the registered contact, and expects 200.
 * `finished` fails unless the NOTIFY was answered 200 (sipp exits 0 only then).
 */
import { runTrunk, type RunningSippTrunk } from './sipp-trunk.ts';

/** The body sipp sends: three new voice messages, one of them urgent. */
export const PBX_SUMMARY = 'Messages-Waiting: yes\r\nMessage-Account: sip:*97@127.0.0.1\r\nVoice-Message: 3/1 (1/0)\r\n';

function scenario(): string {
  const body = PBX_SUMMARY.split('\r\n').filter((line) => line !== '').map((line) => `      ${line}`).join('\n');
  const notify = [
    'NOTIFY [$contact] SIP/2.0',
    'Via: SIP/2.0/TCP [local_ip]:[local_port];branch=z9hG4bK-[pid]-mwi-[call_number]',
    'Max-Forwards: 70',
    'From: <sip:asterisk@[local_ip]:[local_port]>;tag=[pid]mwi[call_number]',
    'To: <[$contact]>',
    // sipp matches messages to its one call by Call-ID: the NOTIFY reuses the REGISTER's.
    'Call-ID: [call_id]',
    'CSeq: 102 NOTIFY',
    'Event: message-summary',
    'Subscription-State: terminated',
    'Content-Type: application/simple-message-summary',
    'Content-Length: [len]',
  ].map((line) => `      ${line}`).join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="mwi-pbx">
  <recv request="REGISTER"><action><ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" assign_to="contact"/></action></recv>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]sipp[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Contact:];expires=3600
      Content-Length: 0

    ]]></send>
  <send><![CDATA[

${notify}

${body}
    ]]></send>
  <recv response="200"/>
</scenario>
`;
}

export function startMwiPbx(): Promise<RunningSippTrunk> {
  return runTrunk(scenario());
}
