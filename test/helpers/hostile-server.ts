/**
 * A hostile server for tests: a raw TCP server on loopback playing a misbehaving InfluxDB (or a
 * proxy in front of one), one mode per behaviour. It runs in a worker thread
 * (hostile-server-worker.mjs), so it keeps answering while the test's main thread is blocked
 * (blocking mode, busy loops); memory it uses is the test process's, so measure a client's RSS in
 * a child process.
 *
 * Interface (stable: other tests build on it):
 * ```ts
 * const srv = await startHostileServer();           // srv.url: 'http://127.0.0.1:<port>'
 * await srv.setMode({ kind: 'trickleBody' });        // every path
 * await srv.setMode({ kind: 'ok' }, '/ping');         // only this pathname (overrides the default)
 * await srv.setMode({ kind: 'partialChunked' }, '/query', { bodyIncludes: 'chunked=true' }); // only requests whose
 *                                                    // body (form-decoded) includes this: checked first, newest first
 * const req = await srv.waitForRequest();            // the 1st request seen since start/reset, once its body is in
 * await srv.waitForRequest({ count: 2, path: '/write' });
 * const closed = await srv.waitForClosed(req.n);     // the client closed that connection; bytes the server sent on it
 * await srv.reset();                                 // modes back to { kind: 'ok' }, request log cleared
 * await srv.close();
 * ```
 * Every answer carries `Connection: close` (one request per connection). Modes (all serializable):
 * - `ok`: like influxd: 204 to /ping and /write, `{"results":[{"statement_id":0}]}` to /query.
 * - `status`: `status`, `headers`, `body` as given.
 * - `trickleBody`: 200 (or `status`) headers, chunked, `prefix` (a JSON start), then one byte (a space)
 *   every `intervalMs` (1000) until the client closes: never ends.
 * - `trickleHeaders`: a status line and one header byte every `intervalMs` (1000): headers never end.
 * - `hugeBody`: `bytes` of body (`shape` 'json': a valid result set, the default; 'html'; 'jsonLine':
 *   one JSON line without end, for chunked readers), generated as the socket drains, never held in
 *   memory; Content-Length unless `contentLength: false`; `status` (200), `contentType`.
 * - `html`: 200 (or `status`) text/html, `body` (default `<html><body>Please sign in</body></html>`).
 * - `redirect`: `status` (307) with `Location: location`.
 * - `hugeHeader`: `status` (400) with `header` (X-Influxdb-Error) of `bytes` (1 MiB), an influxd-like
 *   "unable to parse '…': invalid field format", and `body` ('').
 * - `partialChunked`: a chunked 200 of `lines` (2) lines, each `"partial":true`, then a clean end.
 * - `raw`: these bytes (latin1) instead of an answer, then FIN.
 * - `hang`: read the request, never answer.
 */
import { Worker } from 'node:worker_threads';

export type HostileMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'trickleBody'; status?: number; contentType?: string; prefix?: string; intervalMs?: number }
  | { kind: 'trickleHeaders'; intervalMs?: number }
  | { kind: 'hugeBody'; bytes: number; shape?: 'json' | 'html' | 'jsonLine'; status?: number; contentType?: string; contentLength?: boolean }
  | { kind: 'html'; status?: number; body?: string }
  | { kind: 'redirect'; status?: 301 | 302 | 307 | 308; location: string }
  | { kind: 'hugeHeader'; status?: number; header?: string; bytes?: number; body?: string }
  | { kind: 'partialChunked'; lines?: number }
  | { kind: 'raw'; bytes: string }
  | { kind: 'hang' }
  /** Added by the hostile-table test: `answer` (latin1 bytes: a status line, headers, part of a body), then after `delayMs` (50) a TCP RST; without `answer`, an RST as soon as the request is read. */
  | { kind: 'reset'; answer?: string; delayMs?: number };

/** A request as the server saw it (after its whole body arrived). */
export interface HostileRequest {
  /** 1-based, since start or the last reset(). */
  n: number;
  method: string;
  /** Path with query string. */
  path: string;
  pathname: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  bodyBytes: number;
  /** The first 64 KiB of the body, as UTF-8. */
  body: string;
  /** The mode that answered it. */
  mode: HostileMode['kind'];
}

export interface HostileServer {
  readonly url: string;
  readonly port: number;
  /** Requests seen since start or the last reset(), in order. */
  readonly requests: readonly HostileRequest[];
  /**
   * Sets the mode for `path` (a pathname such as '/write'), or for every path when omitted; with
   * `bodyIncludes`, only for requests whose body (form-decoded: `+` as space) includes that text.
   */
  setMode(mode: HostileMode, path?: string, match?: { bodyIncludes?: string }): Promise<void>;
  /** Resolves once `count` (1) requests (to `path`, if given) were seen since start/reset; with the last of them. */
  waitForRequest(opts?: { count?: number; path?: string }): Promise<HostileRequest>;
  /** Resolves once the connection of request `n` is closed, with the bytes the server sent on it. */
  waitForClosed(n: number): Promise<{ bytesSent: number }>;
  /** Modes back to `ok`, request log cleared (connections still open keep their mode). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startHostileServer(): Promise<HostileServer> {
  const worker = new Worker(new URL('./hostile-server-worker.mjs', import.meta.url));
  worker.unref();
  let nextId = 1;
  const acks = new Map<number, () => void>();
  let requests: HostileRequest[] = [];
  let generation = 0;
  const closed = new Map<string, number>();
  const waiters = new Set<() => void>();
  // The worker's own request numbers -> "<generation>:<n since reset>".
  const workerN = new Map<number, string>();
  const wake = (): void => { for (const w of [...waiters]) w(); };
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg: { ev: string; id?: number; port?: number; req?: HostileRequest; n?: number; bytesSent?: number }) => {
      if (msg.ev === 'ready') resolve(msg.port!);
      else if (msg.ev === 'ack') acks.get(msg.id!)?.();
      else if (msg.ev === 'request') {
        // Numbered in the worker since it started: renumber since the last reset.
        requests.push({ ...msg.req!, n: requests.length + 1 });
        workerN.set(msg.req!.n, `${generation}:${requests.length}`);
        wake();
      } else if (msg.ev === 'closed') {
        const key = workerN.get(msg.n!);
        if (key) closed.set(key, msg.bytesSent!);
        wake();
      }
    });
  });
  const send = (msg: Record<string, unknown>): Promise<void> => new Promise((resolve) => {
    const id = nextId++;
    acks.set(id, () => { acks.delete(id); resolve(); });
    worker.postMessage({ ...msg, id });
  });
  const until = <T>(check: () => T | undefined): Promise<T> => new Promise((resolve) => {
    const tryNow = (): boolean => {
      const v = check();
      if (v === undefined) return false;
      waiters.delete(w);
      resolve(v);
      return true;
    };
    const w = (): void => { tryNow(); };
    if (!tryNow()) waiters.add(w);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() { return requests; },
    setMode: (mode, path, match) => send({ op: 'setMode', mode, path: path ?? '', bodyIncludes: match?.bodyIncludes }),
    waitForRequest: ({ count = 1, path } = {}) => until(() => {
      const matching = path === undefined ? requests : requests.filter((r) => r.pathname === path);
      return matching.length >= count ? matching[count - 1] : undefined;
    }),
    waitForClosed: (n) => {
      const key = `${generation}:${n}`;
      return until(() => (closed.has(key) ? { bytesSent: closed.get(key)! } : undefined));
    },
    reset: async () => {
      await send({ op: 'reset' });
      generation += 1;
      requests = [];
    },
    close: async () => {
      await send({ op: 'close' });
      await worker.terminate();
    },
  };
}
