/** Typed `inject('influxUrl')` for values provided by test/helpers/global-setup.ts. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the shared InfluxDB server (INFLUX_URL or a local influxd started by globalSetup). */
    influxUrl: string;
  }
}

export {};
