/**
 * The durable spool's directory lock (owned here; used by src/writer/spool/log.ts): one process
 * owns a spool directory at a time, through a file `LOCK` holding its pid.
 *
 * `LOCK` appears atomically with the pid already in it: the pid is written to a temp file created
 * with O_EXCL, which is then hard-linked to `LOCK` (link() fails with EEXIST like O_EXCL does), so
 * no opener ever reads a half-written lock. A lock whose pid is dead is stale and taken over; a pid
 * that is alive (`process.kill(pid, 0)` succeeds or fails with EPERM) owns the directory, this
 * process included (a second SpoolLog on the same directory is refused too). Limits: a dead pid
 * reused by an unrelated process reads as alive (remove `LOCK` by hand: the error names the pid).
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolLockedError } from '../../errors.js';

export const kLockName = 'LOCK';

export interface DirLock {
  path: string;
  pid: number;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return /^\d+$/.test(text) ? Number(text) : NaN;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException).code === code;

export async function acquireLock(dir: string): Promise<DirLock> {
  const path = join(dir, kLockName);
  const tmp = join(dir, `${kLockName}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(`${process.pid}\n`);
  } finally {
    await fh.close();
  }
  try {
    // Bounded: each turn either takes the lock, throws, or removed a stale lock someone may race for.
    for (let turn = 0; turn < 8; turn++) {
      try {
        await link(tmp, path);
        return { path, pid: process.pid };
      } catch (err) {
        if (!isCode(err, 'EEXIST')) throw err;
      }
      const owner = await readPid(path);
      if (owner === undefined) continue; // removed meanwhile: try again
      if (pidAlive(owner)) throw new SpoolLockedError(dir, owner);
      // Stale. Move it aside rather than unlink it: if another opener took the lock between our read
      // and now, what we moved is theirs (a live pid), and it goes back.
      const aside = `${tmp}.stale`;
      try {
        await rename(path, aside);
      } catch (err) {
        if (isCode(err, 'ENOENT')) continue;
        throw err;
      }
      const moved = await readPid(aside);
      if (moved !== undefined && moved !== owner && pidAlive(moved)) {
        await link(aside, path).catch(() => undefined);
        await unlink(aside).catch(() => undefined);
        throw new SpoolLockedError(dir, moved);
      }
      await unlink(aside).catch(() => undefined);
    }
    throw new Error(`could not take the lock of spool directory ${dir}: its LOCK file keeps changing`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Removes `LOCK` if it is still ours. */
export async function releaseLock(lock: DirLock): Promise<void> {
  if ((await readPid(lock.path)) === lock.pid) await unlink(lock.path).catch((err: unknown) => {
    if (!isCode(err, 'ENOENT')) throw err;
  });
}
