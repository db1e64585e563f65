// One call of a fastinflux API against a (hostile) server, reduced to what its user sees: the
// result or the error (class, code, status, reason, message and the error's own fields), what a
// batch writer reported (flush(), stats(), onError, onRejected), and how long it took. Used by
// test/integration/hostile-table.test.ts in two ways:
// - imported, with the library from src/ (`runApi(lib, spec)`), for the async client's cells;
// - as a child process, `node hostile-runner.mjs '<spec as JSON>'`, with the library from dist/,
//   for the cells where memory is the point (its peak RSS is the child's alone) and for blocking
//   mode (a blocking call that never ends blocks the thread that would time it out: the parent
//   kills the child instead). Prints one line of JSON: the outcome, with `maxRssMB`.
// Plain JavaScript: a child process cannot load TypeScript.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** `n` lines of line protocol, all of the same length (so that bodies split at known lines). */
export function lineProtocol(n) {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`m,t=a v=${String(i).padStart(6, '0')}i ${1700000000000000000n + BigInt(i)}`);
  return `${lines.join('\n')}\n`;
}

/** What a user can read from an error: class, code, message and its own fields (long ones cut). */
export function summarizeError(e) {
  if (!(e instanceof Error)) return { class: typeof e, message: String(e) };
  const out = { class: e.constructor?.name ?? e.name, code: e.code, message: cut(e.message), messageLength: e.message.length };
  for (const [k, v] of Object.entries(e)) {
    if (k === 'code' || k === 'message') continue;
    if (Array.isArray(v)) out[`${k}Count`] = v.length;
    else if (typeof v === 'string') {
      out[k] = cut(v);
      if (v.length > 1000) out[`${k}Length`] = v.length;
    } else if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  // Getters of the HTTP errors (not own properties).
  if ('retryable' in e && out.retryable === undefined) out.retryable = e.retryable;
  if (Array.isArray(e.errors) && e.errors[0] instanceof Error) out.firstError = summarizeError(e.errors[0]);
  if (e.cause instanceof Error) out.cause = { class: e.cause.constructor?.name, code: e.cause.code, message: cut(e.cause.message) };
  return out;
}

function cut(s) {
  return s.length > 1000 ? `${s.slice(0, 1000)}…` : s;
}

/** Items a query result holds (rows of raw and arrow results, points of an iterable). */
function countResult(r, output) {
  if (output === 'iterable') {
    let n = 0;
    for (const _ of r) n++;
    return n;
  }
  if (output === 'arrow') {
    if (r instanceof Map) return [...r.values()].reduce((s, t) => s + t.numRows, 0);
    if (Array.isArray(r)) return r.length;
    return r.numRows;
  }
  return (r.results ?? []).reduce((s, st) => s + (st.series ?? []).reduce((t, se) => t + (se.values ?? []).length, 0), 0);
}

/** The second column of the first row of a non-chunked answer, described: 'bigint (10000 digits)', 'null' … */
function sampleOf(r, output) {
  let v;
  try {
    if (output === 'arrow') {
      const t = r instanceof Map ? [...r.values()][0] : Array.isArray(r) ? r[0] : r;
      v = t?.getChildAt?.(1)?.get(0);
    } else if (output === 'iterable') {
      for (const p of r) { v = p[1]; break; }
    } else v = r.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  } catch (e) {
    return `unreadable: ${e.message}`;
  }
  if (typeof v === 'bigint') return `bigint (${v.toString().replace('-', '').length} digits)`;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return `string of digits (${v.replace('-', '').length} digits)`;
  if (v === null || v === undefined) return String(v);
  return `${typeof v} ${String(v).slice(0, 30)}`;
}

/**
 * Runs one call. `spec`: { api: 'query' | 'write' | 'writer' | 'blockingQuery' | 'blockingWrite',
 * url, db, client (more client options), output, chunked, q, lines (how many lines to write),
 * writer (writer options), capMs (give up waiting after this: the outcome is then 'pending') }.
 * `hooks.prepare(client)` runs before the timed call (in-process only).
 */
export async function runApi(lib, spec, hooks = {}) {
  const blocking = spec.api === 'blockingQuery' || spec.api === 'blockingWrite';
  const client = new lib.InfluxDBClient({ url: spec.url, db: spec.db ?? 'hostile', ...spec.client, ...(blocking ? { mode: 'blocking' } : {}) });
  if (hooks.prepare) await hooks.prepare(client);
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const capMs = spec.capMs ?? 60_000;
  let outcome;
  let pending = true;
  const run = (async () => {
    try {
      switch (spec.api) {
        case 'query':
        case 'blockingQuery': {
          const output = spec.output ?? 'raw';
          let items = 0;
          const opts = { output, ...(spec.chunked ? { chunked: true, chunkSize: spec.chunkSize ?? 1 } : {}) };
          try {
            const r = await client.query(spec.q ?? 'SELECT * FROM m', opts);
            let first;
            if (spec.chunked) {
              for await (const x of r) {
                first ??= x;
                items += output === 'arrow' ? x.numRows : output === 'iterable' ? 1 : countResult(x, 'raw');
              }
            } else items = countResult(r, output);
            const sample = !spec.chunked ? sampleOf(r, output) : first === undefined ? undefined : output === 'iterable' ? sampleOf([first], 'iterable') : sampleOf(first, output);
            return { result: 'resolved', items, sample, ms: ms() };
          } catch (e) {
            return { result: 'rejected', items, error: summarizeError(e), ms: ms() };
          }
        }
        case 'write':
        case 'blockingWrite': {
          try {
            const r = await client.write(lineProtocol(spec.lines ?? 10));
            return { result: 'resolved', value: r, ms: ms() };
          } catch (e) {
            return { result: 'rejected', error: summarizeError(e), ms: ms() };
          }
        }
        case 'writer': {
          const onError = [];
          let onErrorCalls = 0;
          let onRejected = 0;
          let firstErrorMs;
          const w = client.writer({
            flushIntervalMs: 100,
            ...spec.writer,
            onError: (e) => {
              firstErrorMs ??= ms();
              onErrorCalls++;
              if (onError.length < 3) onError.push(summarizeError(e));
            },
            onRejected: (lines) => {
              onRejected += lines.length;
            },
          });
          await w.write(lineProtocol(spec.lines ?? 10));
          let flush;
          try {
            await w.flush();
            flush = 'resolved';
          } catch (e) {
            flush = summarizeError(e);
          }
          const pick = (s) => ({ accepted: s.accepted, written: s.written, rejected: s.rejected, expired: s.expired, pending: s.pending, requests: s.requests, retries: s.retries, splits: s.splits });
          const stats = pick(w.stats());
          const flushMs = ms();
          // flush() rejects at once on a configuration error (the points are kept): wait until every
          // point has its outcome (written once the server is right again, or expired).
          while (w.stats().pending > 0 && ms() < capMs - 3000) await sleep(100);
          const out = {
            result: typeof flush === 'string' ? 'resolved' : 'rejected',
            error: typeof flush === 'string' ? undefined : flush,
            flushMs, stats, final: pick(w.stats()),
            onErrorFirst: onError[0], onError, onErrorCalls, firstErrorMs, onRejected, ms: ms(),
          };
          await Promise.race([w.close({ timeoutMs: 0 }).catch(() => {}), sleep(2000)]);
          return out;
        }
        default:
          throw new Error(`unknown api ${spec.api}`);
      }
    } finally {
      pending = false;
    }
  })();
  outcome = await Promise.race([run, sleep(capMs).then(() => undefined)]);
  if (outcome === undefined || pending) outcome = { result: 'pending', ms: ms(), note: `still pending after ${capMs} ms` };
  // A client whose request never ends may not close: do not wait for it.
  await Promise.race([Promise.resolve(client.close()).catch(() => {}), sleep(2000)]);
  return outcome;
}

// As a child process: the library from dist/, one line of JSON on stdout, then exit.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const spec = JSON.parse(process.argv[2]);
  const lib = await import(new URL('../../dist/index.js', import.meta.url).href);
  const outcome = await runApi(lib, spec);
  outcome.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify(outcome)}\n`, () => process.exit(0));
}
