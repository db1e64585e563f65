#!/usr/bin/env node
/**
 * The `fastinflux` command: `load`, `query`, `ping`. Errors are one line on stderr (a stack
 * trace only with --debug), and credentials never appear in anything printed.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectionHelp, errorLine } from './common.js';
import { CliError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';

export const toolHelp = `fastinflux: load data into InfluxDB 1.x, query it, ping it

Usage:
  fastinflux load [options] FILE...   load Arrow IPC, Parquet, CSV, NDJSON or line-protocol
                                      files through the batch writer, with a progress bar
  fastinflux query [options] QUERY    run InfluxQL; print a table, CSV, JSON, NDJSON or Arrow
  fastinflux ping [options]           check that the server answers

Run 'fastinflux COMMAND --help' for the options of a command.

${connectionHelp}
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'load':
      return (await import('./load.js')).runLoad(rest);
    case 'query':
      return (await import('./query.js')).runQuery(rest);
    case 'ping':
      return (await import('./query.js')).runPing(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      if (command === 'help' && rest[0]) return main([rest[0], '--help']);
      // Without a command: the usage on stderr, and a usage error's status.
      if (command === undefined) {
        process.stderr.write(toolHelp);
        return EXIT_USAGE;
      }
      process.stdout.write(toolHelp);
      return EXIT_OK;
    case '--version':
    case '-V': {
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`fastinflux ${pkg.version}\n`);
      return EXIT_OK;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}: use load, query or ping (see fastinflux --help)`);
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const debug = process.argv.includes('--debug');
  // `fastinflux query … | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_OK);
    throw e;
  });
  // Ctrl-C ends `query` and `ping` at once, with the status of an interrupted command (`load`
  // has its own handler: the first Ctrl-C stops reading and prints the summary).
  if (process.argv[2] === 'query' || process.argv[2] === 'ping') process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Interrupted: a request still open to a server that does not answer must not keep the
      // process alive (stdout and stderr are written synchronously to files and pipes).
      if (code === EXIT_INTERRUPTED) process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`fastinflux: ${e instanceof UsageError ? '' : 'error: '}${errorLine(e)}\n`);
      if (debug && e instanceof Error) {
        const stack = (e instanceof CliError && e.cause instanceof Error ? e.cause : e).stack;
        if (stack) process.stderr.write(`${errorLine(stack)}\n`);
      }
      process.exitCode = e instanceof CliError ? e.exitCode : EXIT_ERROR;
    },
  );
}
