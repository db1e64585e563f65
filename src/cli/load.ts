/**
 * `fastinflux load FILE...`: Arrow IPC, Parquet, CSV, NDJSON and line-protocol files, streamed
 * through the batch writer. Inputs are read incrementally, chunk by chunk, and every chunk waits
 * for room in the writer's bounded buffer (`await writer.write()`): the whole file is never in
 * memory. Every row ends up written, or in the summary's counts and the dead letter with the
 * reason: rejected by the server, expired, or invalid (could not become a point; never sent).
 *
 * This file is the run (`runLoad`): the checkpoint file, Ctrl-C and SIGTERM, the server's
 * checks before anything is sent, the files one after the other, the summary and the exit
 * status. One file's load: load-file.ts; options, help and the summary's words: load-settings.ts;
 * the dead letter: load-dead-letter.ts.
 */
import { InfluxDBHttpError } from '../errors.js';
import { Checkpoint } from './checkpoint.js';
import { connect, errorLine, out } from './common.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_WRITTEN, EXIT_OK, UsageError } from './errors.js';
import { DeadLetter } from './load-dead-letter.js';
import { INTERRUPTED, loadFile, type CheckpointRun } from './load-file.js';
import { kInterruptGraceMs, loadHelp, notWrittenOf, parseLoadArgs, sum, summaryText, type FileReport } from './load-settings.js';
import { formatCount } from './progress.js';

/** How often the checkpoint is saved while loading. */
const kCheckpointEveryMs = 1000;

export async function runLoad(args: string[]): Promise<number> {
  const parsed = parseLoadArgs(args);
  if (parsed.help) {
    await out(loadHelp);
    return EXIT_OK;
  }
  const { s, files, v } = parsed;
  const str = (k: string): string | undefined => v[k] as string | undefined;
  const conn = connect(v as never, s.workers > 0 ? { workers: s.workers } : {});
  if (conn.db === undefined) {
    await conn.client.close();
    throw new UsageError('no database: give --db (or set INFLUX_DB)');
  }
  // A checkpoint that cannot be read stops the load before anything is written; one that
  // cannot be written too (it is saved once now).
  let ck: Checkpoint | undefined;
  if (s.checkpoint !== undefined) {
    try {
      ck = Checkpoint.open(s.checkpoint, conn.db, conn.rp);
      ck.save(true);
    } catch (e) {
      await conn.client.close();
      throw e;
    }
  }
  // Resuming, the dead letter keeps what the earlier runs put in it.
  const dead = new DeadLetter(str('dead-letter'), ck !== undefined);
  const reports: FileReport[] = [];
  let fatal: Error | undefined;
  let interrupted = false;
  let interrupt!: () => void;
  const interruption = new Promise<typeof INTERRUPTED>((resolve) => {
    interrupt = () => resolve(INTERRUPTED);
  });
  // What is awaited while the user may press Ctrl-C: the promise, or INTERRUPTED at the first Ctrl-C.
  const untilInterrupted = <T>(p: Promise<T>): Promise<T | typeof INTERRUPTED> => {
    p.catch(() => {}); // left behind when interrupted: its failure no longer matters
    return Promise.race([p, interruption]);
  };
  // The checkpoint follows the server's acknowledgements: saved every second while loading.
  const saving: CheckpointRun | undefined = ck ? { ck, sync: undefined } : undefined;
  const onSigint = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // Quitting at once: what is acknowledged so far is kept.
      saving?.sync?.();
      saving?.ck.save();
      process.exit(EXIT_INTERRUPTED);
    }
    interrupted = true;
    process.stderr.write(`\nfastinflux: ${signal === 'SIGTERM' ? 'terminated' : 'interrupted'}: stopped reading; what was read gets ${kInterruptGraceMs / 1000} s to be sent (Ctrl-C again quits at once)\n`);
    interrupt();
  };
  process.on('SIGINT', onSigint);
  // SIGTERM (a service manager, kill): the same orderly stop, the checkpoint saved.
  process.on('SIGTERM', onSigint);
  const saveTimer = saving ? setInterval(() => {
    saving.sync?.();
    saving.ck.save();
  }, kCheckpointEveryMs) : undefined;
  saveTimer?.unref();
  const started = performance.now();
  const setup = async (): Promise<void> => {
    try {
      await conn.client.ping();
    } catch (e) {
      throw new CliError(`cannot reach ${conn.server}: ${errorLine(e)}`);
    }
    if (v['create-db']) {
      try {
        await conn.client.createDatabase(conn.db);
      } catch (e) {
        throw new CliError(`cannot create database ${JSON.stringify(conn.db)}: ${errorLine(e)}`);
      }
    } else {
      // A database that does not exist, or credentials refused: said now, not after retries.
      // (With credentials, SHOW DATABASES lists only what the user may read: a write-only user
      // would not see it, so only refused credentials count then.)
      let names: string[] | undefined;
      try {
        const r = await conn.client.query('SHOW DATABASES', { output: 'raw' });
        names = (r.results[0]?.series?.[0]?.values ?? []).map((x) => String(x[0]));
      } catch (e) {
        // isAuthError is the error's verdict (decision: pause, auth), as the writer reads it.
        if (e instanceof InfluxDBHttpError && e.isAuthError) throw new CliError(`${conn.server} refused the credentials: ${errorLine(e)}`);
      }
      if (names && !conn.authenticated && !names.includes(conn.db!)) throw new CliError(`database ${JSON.stringify(conn.db)} does not exist on ${conn.server} (--create-db creates it)`);
    }
  };
  try {
    await untilInterrupted(setup());
    for (const f of files) {
      if (interrupted) break;
      try {
        const r = await loadFile(f, s, conn, dead, { isInterrupted: () => interrupted, untilInterrupted }, saving);
        reports.push(r.report);
        if (r.fatal) {
          fatal = r.fatal;
          break;
        }
      } catch (e) {
        // The files before it keep their summary.
        fatal = e instanceof Error ? e : new Error(String(e));
        break;
      }
    }
  } finally {
    clearInterval(saveTimer);
    saving?.sync?.();
    saving?.ck.save();
    // A second Ctrl-C still quits at once until the summary is out.
    dead.close();
    const closing = conn.client.close().catch(() => {});
    // Interrupted: a request to a server that does not answer must not hold the summary back.
    await (interrupted ? Promise.race([closing, new Promise((r) => setTimeout(r, 1000).unref())]) : closing);
  }
  const total = sum(reports, Math.round(performance.now() - started) / 1000);
  const notWritten = notWrittenOf(total);
  await out(summaryText(reports, total, { json: s.json, conn, deadLetterPath: dead.path, fatal, interrupted }));
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);
  if (fatal) throw fatal instanceof CliError ? fatal : new CliError(errorLine(fatal), EXIT_ERROR, { cause: fatal });
  if (interrupted) return EXIT_INTERRUPTED;
  if (notWritten > 0) {
    if (!dead.path && !s.json) process.stderr.write(`fastinflux: ${formatCount(notWritten)} points were not written (--dead-letter FILE keeps them, with the reasons)\n`);
    return EXIT_NOT_WRITTEN;
  }
  return EXIT_OK;
}
