/** Process helpers for tests that start real server processes. */

/** Whether a process with this pid exists (signal 0); rethrows anything but ESRCH (e.g. EPERM). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
