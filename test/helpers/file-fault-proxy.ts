/**
 * A fault proxy in front of the shared influxd for all the tests of one file: `behindFaultProxy()`,
 * called at the top of the file, starts it before the file's tests and closes it after them.
 * The tests script it (`proxy.script`, `proxy.clear`) and read the server directly (`serverUrl`).
 */
import { afterAll, beforeAll } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { sharedInfluxUrl } from './server.js';

export interface FileFaultProxy {
  /** The shared influxd itself (for the checks: never through the proxy). */
  readonly serverUrl: string;
  /** The proxy, once the file's `beforeAll` has started it. */
  readonly proxy: FaultProxy;
}

export function behindFaultProxy(): FileFaultProxy {
  const serverUrl = sharedInfluxUrl();
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: serverUrl });
  });
  afterAll(async () => {
    await proxy?.close();
  });
  return {
    serverUrl,
    get proxy(): FaultProxy {
      if (proxy === undefined) throw new Error('the fault proxy is started by beforeAll: use it inside a test');
      return proxy;
    },
  };
}
