/**
 * A fault-injecting HTTP proxy on loopback, put in front of a REAL influxd by tests: per request
 * it forwards, answers with a scripted status, delays, resets (RST), closes, hangs, answers 413
 * before reading the body, sends raw bytes (not HTTP), or spoils the server's real answer on its
 * way back (a bad header byte, headers too large, a body cut short). Every request is logged with
 * its body as received.
 *
 * Decisions are taken when a request's headers arrive (so `reset`/`early` can act before the body
 * is read); `setHandler(fn, { afterBody: true })` decides after the whole body instead.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Forward to the target; with `then`, forward (the server acts) but answer the client with `then`. */
export interface PassAction {
  pass: true;
  /** Wait this long before forwarding. */
  delayMs?: number;
  /** Ambiguous outcome: the server got the request, the client sees this instead of its answer. */
  then?: ThenAction;
  /** Relay the server's answer, spoiled so that the client cannot read it (ignored with `then`). */
  spoil?: AnswerSpoil;
}

/**
 * How to spoil a relayed answer: its status line and headers are sent as the server gave them
 * (with `Content-Length` and `Connection: close`), plus the fault, then the connection is closed.
 */
export type AnswerSpoil =
  /** One more header whose value holds a control byte (undici: "Invalid header value char"). */
  | { badHeaderByte: true }
  /** One more header of this many bytes (undici's limit is 16 KiB: UND_ERR_HEADERS_OVERFLOW). */
  | { headerBytes: number }
  /** Only the first `cutBodyAfter` bytes of the body, then FIN (the declared length is the whole body's). */
  | { cutBodyAfter: number };

/** Write these bytes instead of an HTTP answer (after reading the body), then close (FIN). */
export interface RawAction {
  raw: string | Buffer;
  delayMs?: number;
}

/** Answer directly, without forwarding. */
export interface StatusAction {
  status: number;
  /** Content-Type defaults to application/json when the body starts with `{`, else text/plain. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long (after the body was read) before answering. */
  delayMs?: number;
  /** Answer before reading the body and close the connection (influxd on Content-Length > max-body-size). */
  early?: boolean;
}

/** Read up to `afterBytes` of the body (0 = none), then destroy the socket with a TCP RST. */
export interface ResetAction {
  reset: true;
  afterBytes?: number;
  /** Wait this long before the reset. */
  delayMs?: number;
}

/** Read the whole body, then close the connection without answering (FIN, no RST). */
export interface CloseAction {
  close: true;
  delayMs?: number;
}

/** Read the whole body and never answer (until the client gives up or `proxy.close()`). */
export interface HangAction {
  hang: true;
}

export type ThenAction = Omit<StatusAction, 'early'> | Omit<ResetAction, 'afterBytes'> | CloseAction | HangAction | RawAction;
export type FaultAction = PassAction | StatusAction | ResetAction | CloseAction | HangAction | RawAction;

export interface ProxyRequestRecord {
  method: string;
  /** Path with query string, as sent by the client. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body as received so far (the full body once read; partial on reset/abort/early). */
  readonly body: Buffer;
  /** performance.now() when the request headers arrived. */
  receivedAt: number;
  /** performance.now() when the proxy answered, reset, closed (unset while pending or hanging). */
  finishedAt?: number;
  /** What the proxy did, e.g. 'pass 204', 'pass 204 then 500', 'status 503', 'reset after 0 bytes', 'pass 200 spoiled: body cut after 10 bytes'. */
  action: string;
  /** The action applied (undefined until decided). */
  fault?: FaultAction;
  /** Status the target answered with, for pass actions. */
  upstreamStatus?: number;
}

export type FaultHandler = (req: ProxyRequestRecord, n: number) => FaultAction | undefined;

export interface FaultProxyOptions {
  /** Port to listen on (default: a free one). Lets a test start the "server" after a client already tries it. */
  port?: number;
  /** e.g. 'http://127.0.0.1:8086'; without it, passed-through requests get a 502. https targets skip cert checks. */
  target?: string;
  /** How long `early` 413s keep draining the client before destroying the socket (Go uses 500 ms). */
  lingerMs?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Live log of every request received (since the last clear()). */
  readonly requests: ProxyRequestRecord[];
  /** Applies when neither the handler nor the script gives an action; `{ pass: true }` by default. */
  defaultAction: FaultAction;
  /** Queues actions, consumed one per incoming request in order. */
  script(...actions: FaultAction[]): void;
  /**
   * Full control: called per request with its record and index n in `requests`; return undefined to
   * fall back to script/default. With `afterBody`, called once the whole body is read (record.body set).
   */
  setHandler(handler: FaultHandler | undefined, opts?: { afterBody?: boolean }): void;
  /** Number of requests seen, optionally only those whose path starts with `pathPrefix`. */
  count(pathPrefix?: string): number;
  /** Resolves once count(pathPrefix) >= n; rejects after timeoutMs. */
  waitForCount(n: number, pathPrefix?: string, timeoutMs?: number): Promise<void>;
  /** Empties the log and the script (keeps handler and defaultAction). */
  clear(): void;
  /** Stops listening, destroys every socket (hung requests included) and upstream request. */
  close(): Promise<void>;
}

// RFC 9110 hop-by-hop headers, plus host (set for the target) and expect (answered here).
const kHopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'expect',
]);

/** rawHeaders minus hop-by-hop ones (and those named in Connection); keeps case, order and duplicates. */
function filterRawHeaders(raw: readonly string[], extraDrop: readonly string[] = []): string[] {
  const drop = new Set([...kHopByHop, ...extraDrop]);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const name of raw[i + 1]!.split(',')) drop.add(name.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function describeAction(action: FaultAction | ThenAction): string {
  const delay = 'delayMs' in action && action.delayMs ? ` after ${action.delayMs} ms` : '';
  if ('pass' in action) return `pass${delay}`;
  if ('raw' in action) return `raw ${Buffer.byteLength(action.raw)} bytes${delay}`;
  if ('reset' in action) return `reset after ${'afterBytes' in action ? (action.afterBytes ?? 0) : 0} bytes${delay}`;
  if ('close' in action) return `close${delay}`;
  if ('hang' in action) return 'hang';
  return `status ${action.status}${'early' in action && action.early ? ' early' : ''}${delay}`;
}

export async function startFaultProxy(opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = opts.target ? new URL(opts.target) : undefined;
  const lingerMs = opts.lingerMs ?? 500;
  const requests: ProxyRequestRecord[] = [];
  const queue: FaultAction[] = [];
  let handler: FaultHandler | undefined;
  let handlerAfterBody = false;
  let closed = false;
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const upstreamRequests = new Set<http.ClientRequest>();
  const waiters = new Set<() => void>();
  // Forwarding uses the raw form: the client's case, order and duplicates.
  const rawHeaders = new WeakMap<ProxyRequestRecord, readonly string[]>();
  // Own agents, so the proxy's upstream connections never mix with anything else and die on close().
  const agent = target?.protocol === 'https:'
    ? new https.Agent({ keepAlive: true, rejectUnauthorized: false })
    : new http.Agent({ keepAlive: true });

  /** Timer that close() cancels (resolving, so flows wake up and see `closed`). */
  function sleep(ms: number | undefined): Promise<void> {
    if (!ms || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });
  }

  const server = http.createServer({ keepAlive: true });
  // Hung requests must not be cut by node's own limits; close() ends them.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Resets, client aborts and garbage end up here: nothing to answer.
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  server.on('request', (req, res) => void handle(req, res, false));
  // Answer `Expect: 100-continue` ourselves, so `early` can refuse without inviting the body.
  server.on('checkContinue', (req, res) => void handle(req, res, true));

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): Promise<void> {
    const socket = req.socket;
    req.on('error', () => {});
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    let cachedBody: Buffer | undefined;
    const record = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      receivedAt: performance.now(),
      action: 'pending',
      get body(): Buffer {
        cachedBody ??= Buffer.concat(chunks);
        return cachedBody;
      },
    } as ProxyRequestRecord;
    rawHeaders.set(record, req.rawHeaders);
    requests.push(record);
    const n = requests.length - 1;
    for (const wake of [...waiters]) wake();

    // Paused first, so the 'data' listener doesn't start the flow: reading starts when the action says so.
    req.pause();
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      cachedBody = undefined;
    });
    const invite = (): void => {
      if (expectContinue && !res.headersSent) {
        expectContinue = false;
        res.writeContinue();
      }
    };
    /** Reads the whole body; false if the client went away first. */
    const readAll = (): Promise<boolean> =>
      new Promise((resolve) => {
        if (req.readableEnded) return resolve(true);
        invite();
        req.once('end', () => resolve(true));
        req.once('close', () => resolve(req.complete));
        req.resume();
      });
    /** Reads until at least `limit` bytes arrived (or the body ended). */
    const readUpTo = (limit: number): Promise<void> =>
      new Promise((resolve) => {
        if (limit <= 0 || req.readableEnded) return resolve();
        invite();
        let got = 0;
        const onData = (chunk: Buffer): void => {
          got += chunk.length;
          if (got >= limit) {
            req.pause();
            done();
          }
        };
        const done = (): void => {
          req.off('data', onData);
          resolve();
        };
        req.on('data', onData);
        req.once('end', done);
        req.once('close', done);
        req.resume();
      });
    const finish = (action: string): void => {
      record.action = action;
      record.finishedAt = performance.now();
    };
    const gone = (): boolean => closed || socket.destroyed;

    const decide = (): FaultAction => {
      let fromHandler: FaultAction | undefined;
      try {
        fromHandler = handler?.(record, n);
      } catch (err) {
        // A broken handler should fail its test visibly, not leave the client hanging.
        fromHandler = { status: 500, body: `fault-proxy: handler threw: ${String(err)}` };
      }
      const action = fromHandler ?? queue.shift() ?? proxy.defaultAction;
      record.fault = action;
      record.action = describeAction(action);
      return action;
    };

    let action: FaultAction;
    if (handler && handlerAfterBody) {
      if (!(await readAll())) return finish('client aborted before decision');
      action = decide();
    } else {
      action = decide();
    }

    if ('status' in action && action.early) {
      // Like influxd: refuse on the headers alone, then stop the connection. We half-close (FIN) and
      // drain for lingerMs before destroying: closing with unread input would send an RST that can
      // beat the 413 to the client (Go's net/http lingers the same way).
      sendStatus(res, action, true);
      socket.destroySoon = function lingeringClose(this: Socket): void {
        this.end();
        this.resume();
        const t = setTimeout(() => this.destroy(), lingerMs);
        this.once('close', () => clearTimeout(t));
      };
      req.resume();
      return finish(describeAction(action));
    }

    if ('reset' in action) {
      await readUpTo(action.afterBytes ?? 0);
      await sleep(action.delayMs);
      if (!gone()) socket.resetAndDestroy();
      return finish(`${describeAction(action)} (${chunks.reduce((s, c) => s + c.length, 0)} read)`);
    }

    if (!(await readAll())) return finish(`${describeAction(action)}: client aborted the body`);

    if ('pass' in action) {
      await sleep(action.delayMs);
      if (closed) return finish('pass: proxy closed');
      if (!action.then) {
        // Relay as it streams (chunked queries), status/headers/body verbatim, unless spoiled.
        forward(record, res, (status) => (record.upstreamStatus = status), (desc) => finish(desc), action.spoil);
        return;
      }
      const then = action.then;
      forward(record, undefined, (status) => (record.upstreamStatus = status), (desc) => {
        if (closed) return finish(`${desc}: proxy closed`);
        void respond(then, `${desc} then `);
      });
      return;
    }
    await respond(action, '');

    /** Non-forwarding answers, once the body is read. */
    async function respond(a: ThenAction, prefix: string): Promise<void> {
      if ('hang' in a) {
        record.action = `${prefix}hang`;
        return;
      }
      await sleep(a.delayMs);
      if (gone()) return finish(`${prefix}${describeAction(a)}: client gone`);
      if ('reset' in a) socket.resetAndDestroy();
      else if ('close' in a) socket.destroy(); // Body fully read, so this is a FIN, not an RST.
      else if ('raw' in a) socket.end(typeof a.raw === 'string' ? Buffer.from(a.raw, 'latin1') : a.raw);
      else sendStatus(res, a, false);
      finish(`${prefix}${describeAction(a)}`);
    }
  }

  function sendStatus(res: http.ServerResponse, a: Omit<StatusAction, 'delayMs'>, closeAfter: boolean): void {
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : (a.body ?? Buffer.alloc(0));
    const headers: Record<string, string | number> = { ...a.headers };
    const has = (name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);
    if (!has('content-type') && body.length > 0) {
      headers['Content-Type'] = body[0] === 0x7b ? 'application/json' : 'text/plain; charset=utf-8';
    }
    if (!has('content-length')) headers['Content-Length'] = body.length;
    if (closeAfter) headers['Connection'] = 'close';
    res.writeHead(a.status, headers);
    res.end(body);
  }

  /**
   * Sends the buffered request to the target. With `res`, relays the answer to the client;
   * without, consumes it. `done` gets a description once the exchange is over.
   */
  function forward(
    record: ProxyRequestRecord,
    res: http.ServerResponse | undefined,
    onStatus: (status: number) => void,
    onDone: (desc: string) => void,
    spoil?: AnswerSpoil,
  ): void {
    let settled = false;
    const done = (desc: string): void => {
      if (settled) return;
      settled = true;
      onDone(desc);
    };
    const fail = (why: string): void => {
      if (res && !res.headersSent && !res.destroyed) {
        sendStatus(res, { status: 502, body: `fault-proxy: ${why}` }, false);
      } else res?.destroy();
      done(`pass → 502 (${why})`);
    };
    if (!target) {
      fail('no target');
      return;
    }
    const body = record.body;
    const headers = filterRawHeaders(rawHeaders.get(record) ?? [], ['content-length']);
    // With raw-array headers node adds no Host of its own: name the target.
    headers.push('Host', target.host);
    // Re-declare the length: the client may have sent chunked, and we send a buffered body.
    if (body.length > 0 || record.headers['content-length'] !== undefined) headers.push('Content-Length', String(body.length));
    const lib = target.protocol === 'https:' ? https : http;
    const upReq = lib.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: record.method,
      path: record.path,
      headers,
      agent,
    });
    upstreamRequests.add(upReq);
    upReq.on('close', () => upstreamRequests.delete(upReq));
    upReq.on('error', (err: NodeJS.ErrnoException) => fail(`upstream error: ${err.code ?? err.message}`));
    upReq.on('response', (upRes) => {
      const status = upRes.statusCode ?? 502;
      onStatus(status);
      upRes.on('error', () => {});
      if (!res) {
        upRes.resume();
        upRes.on('end', () => done(`pass ${status}`));
        upRes.on('close', () => {
          if (!upRes.complete) done(`pass ${status} (aborted mid-body)`);
        });
        return;
      }
      if (res.destroyed) {
        upRes.resume();
        return done(`pass ${status}: client gone`);
      }
      if (spoil) {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => done(`pass ${status} spoiled: ${sendSpoiled(res, upRes, Buffer.concat(body), spoil)}`));
        return;
      }
      res.writeHead(status, upRes.statusMessage, filterRawHeaders(upRes.rawHeaders));
      upRes.pipe(res);
      upRes.on('end', () => done(`pass ${status}`));
      // Upstream died mid-body: the client must not see a clean end either.
      upRes.on('close', () => {
        if (!upRes.complete) {
          res.destroy();
          done(`pass ${status} (aborted mid-body)`);
        }
      });
      res.on('close', () => {
        if (!res.writableFinished) upRes.destroy();
      });
    });
    upReq.end(body);
  }

  /**
   * Writes the target's answer straight to the client's socket, with the fault, and closes it:
   * node's ServerResponse would refuse the bad bytes. Returns what was done, for the log.
   */
  function sendSpoiled(res: http.ServerResponse, upRes: http.IncomingMessage, body: Buffer, spoil: AnswerSpoil): string {
    const socket = res.socket;
    if (!socket || socket.destroyed) return 'client gone';
    const head = [`HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? ''}`];
    const raw = filterRawHeaders(upRes.rawHeaders, ['content-length']);
    for (let i = 0; i < raw.length; i += 2) head.push(`${raw[i]}: ${raw[i + 1]}`);
    let what: string;
    let sent = body;
    if ('badHeaderByte' in spoil) {
      head.push('X-Fault-Proxy: bad\x01byte');
      what = 'a header value with a control byte';
    } else if ('headerBytes' in spoil) {
      head.push(`X-Fault-Proxy: ${'a'.repeat(spoil.headerBytes)}`);
      what = `a header of ${spoil.headerBytes} bytes`;
    } else {
      sent = body.subarray(0, Math.min(body.length, spoil.cutBodyAfter));
      what = `body cut after ${sent.length} of ${body.length} bytes`;
    }
    head.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
    socket.write(Buffer.from(head.join('\r\n'), 'latin1'));
    // end() sends what was written, then a FIN: the client sees a clean close, mid-answer.
    socket.end(sent);
    return what;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    defaultAction: { pass: true },
    script(...actions) {
      queue.push(...actions);
    },
    setHandler(h, o) {
      handler = h;
      handlerAfterBody = o?.afterBody ?? false;
    },
    count(pathPrefix) {
      return pathPrefix === undefined ? requests.length : requests.filter((r) => r.path.startsWith(pathPrefix)).length;
    },
    waitForCount(want, pathPrefix, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (proxy.count(pathPrefix) < want) return false;
          cleanup();
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fault-proxy: ${proxy.count(pathPrefix)} of ${want} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(onRequest);
        };
        const onRequest = (): void => void check();
        waiters.add(onRequest);
        check();
      });
    },
    clear() {
      requests.length = 0;
      queue.length = 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of timers) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      timers.clear();
      for (const r of upstreamRequests) r.destroy();
      agent.destroy();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await stopped;
    },
  };
  return proxy;
}
