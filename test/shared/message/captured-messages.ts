/**
 * Messages as real clients and servers send them: SIP.js 0.21 over WSS (a REGISTER answering a
 * digest challenge), an INVITE carrying Chrome's WebRTC offer, the 200 OK an Asterisk-style UAS
 * returns, and a BYE. Content-Length is computed, so the fixtures stay correct when edited.
 */
const encoder = new TextEncoder();

function message(head: string[], body = ''): string {
  const length = encoder.encode(body).length;
  return `${head.join('\r\n')}\r\nContent-Length: ${length}\r\n\r\n${body}`;
}

export const SIPJS_REGISTER_WITH_DIGEST = message([
  'REGISTER sip:sip.example.com SIP/2.0',
  'Via: SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK1287771',
  'To: <sip:alice@sip.example.com>',
  'From: <sip:alice@sip.example.com>;tag=u8m6m2o3r2',
  'CSeq: 2 REGISTER',
  'Call-ID: 3cmd0ngm0mdnu3a2o0gdn1',
  'Max-Forwards: 70',
  'Authorization: Digest algorithm=MD5, username="alice", realm="sip.example.com", nonce="YzI5Mzk4ODk0NmY6NDk0", uri="sip:sip.example.com", response="6629fae49393a05397450978507c4ef1", qop=auth, cnonce="k1pg1db8ho9o", nc=00000001',
  'Contact: <sip:9bdfnq8r@4k8ncb2ot0s3.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:c7e8d8a5-3d4e-4f4c-8b2c-5d9c6f0a8e11>";expires=600',
  'Expires: 600',
  'Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER',
  'Supported: path, gruu, outbound',
  'User-Agent: SIP.js/0.21.2',
]);

export const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 6cbd4d63-2b6e-4b0a-a4a3-4d5e1c6a3f0e',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3179889176 1 udp 2122260223 192.168.1.20 55031 typ host generation 0 network-id 1',
  'a=candidate:842163049 1 udp 1686052607 203.0.113.7 55031 typ srflx raddr 192.168.1.20 rport 55031 generation 0 network-id 1',
  'a=ice-ufrag:Hn3T',
  'a=ice-pwd:pXkLrOfZ6b0mC1x0y3u7Q9hA',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 8B:1F:6C:3E:0A:76:5A:2D:9C:11:DE:4F:70:33:AB:90:12:5E:C4:77:08:B2:9A:61:3D:F0:44:1C:E5:86:27:D9',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv',
  'a=msid:6cbd4d63-2b6e-4b0a-a4a3-4d5e1c6a3f0e 1f0c4a9e-7d3b-4c55-9a0e-2b8f6d1c3e7a',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:2913435711 cname:rq7ZP0b1Lq9m2vXh',
  '',
].join('\r\n');

export const INVITE_WITH_CHROME_OFFER = message(
  [
    'INVITE sip:+14155550123@sip.example.com SIP/2.0',
    'Via: SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK8329457',
    'To: <sip:+14155550123@sip.example.com>',
    'From: "Alice Liddell" <sip:alice@sip.example.com>;tag=2g7rbk4q1h',
    'CSeq: 1 INVITE',
    'Call-ID: 5ttpbgc4i3h7jfoo0p7l',
    'Max-Forwards: 70',
    'Contact: <sip:9bdfnq8r@4k8ncb2ot0s3.invalid;transport=ws;ob>',
    'Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER',
    'Supported: outbound',
    'User-Agent: SIP.js/0.21.2',
    'Content-Type: application/sdp',
  ],
  CHROME_OFFER,
);

export const OK_TO_INVITE = message(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK8329457;received=198.51.100.23;rport=49152',
    'Record-Route: <sip:edge.example.com;transport=ws;lr>, <sip:10.0.0.5;lr>',
    'From: "Alice Liddell" <sip:alice@sip.example.com>;tag=2g7rbk4q1h',
    'To: <sip:+14155550123@sip.example.com>;tag=as5f3a1c2e',
    'Call-ID: 5ttpbgc4i3h7jfoo0p7l',
    'CSeq: 1 INVITE',
    'Server: Asterisk PBX 20.5.0',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE',
    'Contact: <sip:+14155550123@10.0.0.5:5060>',
    'Supported: replaces, timer',
    'Content-Type: application/sdp',
  ],
  ['v=0', 'o=- 1700000000 1700000001 IN IP4 10.0.0.5', 's=Asterisk', 'c=IN IP4 10.0.0.5', 't=0 0', 'm=audio 14566 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n'),
);

export const BYE = message([
  'BYE sip:+14155550123@10.0.0.5:5060 SIP/2.0',
  'Via: SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK5520193',
  'Route: <sip:edge.example.com;transport=ws;lr>, <sip:10.0.0.5;lr>',
  'To: <sip:+14155550123@sip.example.com>;tag=as5f3a1c2e',
  'From: "Alice Liddell" <sip:alice@sip.example.com>;tag=2g7rbk4q1h',
  'CSeq: 2 BYE',
  'Call-ID: 5ttpbgc4i3h7jfoo0p7l',
  'Max-Forwards: 70',
  'Supported: outbound',
  'User-Agent: SIP.js/0.21.2',
]);
