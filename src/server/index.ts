export {
  findInfluxd,
  ensureInfluxd,
  startLocalInfluxd,
  quoteInfluxIdent,
  quoteInfluxString,
} from './local-influxd.js';
export type { LocalInfluxd, LocalInfluxdOptions, HttpConfigValue } from './local-influxd.js';
