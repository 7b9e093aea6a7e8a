/**
 * The edge Worker: the only public entry to sipedge.
 * `/health` answers liveness probes; `/sip` and `/api/v1` arrive with the edge and API issues.
 */
import { Hono } from 'hono';
import { VERSION } from '../shared/version.ts';

export const app = new Hono<{ Bindings: Env }>();

app.get('/health', (c) =>
  c.json({ status: 'ok', service: 'sipedge-edge', version: VERSION, domain: c.env.SIPEDGE_DOMAIN }),
);

export default app;
