import { expect, it } from 'vitest';
import { startHostileServer } from '../helpers/hostile-server.js';

it('hostile server: modes answer as documented', async () => {
  const srv = await startHostileServer();
  try {
    let r = await fetch(`${srv.url}/ping`);
    expect(r.status).toBe(204);
    await srv.setMode({ kind: 'html' }, '/write');
    r = await fetch(`${srv.url}/write?db=x`, { method: 'POST', body: 'm v=1' });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('sign in');
    const w = await srv.waitForRequest({ path: '/write' });
    expect(w.body).toBe('m v=1');
    await srv.setMode({ kind: 'hugeBody', bytes: 5_000_000 });
    r = await fetch(`${srv.url}/query?q=x`);
    const j = await r.json() as { results: unknown[] };
    expect(j.results.length).toBe(1);
    await srv.setMode({ kind: 'redirect', location: 'http://u:p@elsewhere/x' });
    r = await fetch(`${srv.url}/query`, { redirect: 'manual' });
    expect(r.status).toBe(307);
    await srv.setMode({ kind: 'partialChunked' });
    r = await fetch(`${srv.url}/query`);
    expect((await r.text()).split('\n').filter(Boolean).length).toBe(2);
    await srv.setMode({ kind: 'trickleBody', intervalMs: 50 });
    const ac = new AbortController();
    r = await fetch(`${srv.url}/query`, { signal: ac.signal });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    await reader.read(); await reader.read();
    const req = srv.requests.at(-1)!;
    ac.abort();
    const c = await srv.waitForClosed(req.n);
    expect(c.bytesSent).toBeGreaterThan(0);
    await srv.reset();
    expect(srv.requests.length).toBe(0);
  } finally {
    await srv.close();
  }
});
