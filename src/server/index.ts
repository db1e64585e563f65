export {
  findInfluxd,
  ensureInfluxd,
  startLocalInfluxd,
  quoteInfluxIdent,
  quoteInfluxString,
} from './local-influxd.js';
export type { LocalInfluxd, LocalInfluxdOptions, HttpConfigValue } from './local-influxd.js';
export { findVictoriaMetrics, ensureVictoriaMetrics, startLocalVictoriaMetrics, parseVmExportLine, victoriaMetricsArgs } from './local-victoria.js';
export type { LocalVictoriaMetrics, LocalVictoriaMetricsOptions, VmExportedSeries, VmExportOptions } from './local-victoria.js';
