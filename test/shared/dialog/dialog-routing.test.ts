import { describe, expect, it } from 'vitest';
import { requestTarget } from '../../../shared/dialog/index.ts';

const remoteTarget = 'sip:bob@192.0.2.4;transport=udp';

describe('Request-URI and Route of in-dialog requests (RFC 3261 §12.2.1.1)', () => {
  it('goes straight to the remote target without Route when nobody record-routed', () => {
    expect(requestTarget({ routeSet: [], remoteTarget })).toEqual({ uri: remoteTarget, routes: [] });
  });

  it('through loose routers keeps the remote target as Request-URI and lists the route set, parameters included', () => {
    const routeSet = ['<sip:10.0.0.5;transport=tcp;r2=on;lr>', '<sip:203.0.113.5;r2=on;lr>'];
    expect(requestTarget({ routeSet, remoteTarget })).toEqual({ uri: remoteTarget, routes: routeSet });
  });

  it('through a strict router puts that router in the Request-URI and the remote target last in Route', () => {
    const routeSet = ['<sip:strict.pbx.example.com;transport=udp;method=INVITE?Subject=x>', '<sip:p2.example.com;lr>'];
    expect(requestTarget({ routeSet, remoteTarget })).toEqual({
      // RFC 3261 §19.1.1: `method` and URI headers are not allowed in a Request-URI.
      uri: 'sip:strict.pbx.example.com;transport=udp',
      routes: ['<sip:p2.example.com;lr>', `<${remoteTarget}>`],
    });
  });
});
