// The peers (bench/package.json) are installed only for benchmarks (`npm run bench`): typed as
// `any` here so that `npm run typecheck` checks bench/ the same with or without them.
declare module 'influx';
declare module '@influxdata/influxdb-client';
