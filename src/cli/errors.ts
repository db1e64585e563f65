/** Errors of the command-line tool: one clear line on stderr, and an exit code. */

/** Exit codes: 0 all written, 1 an error, 2 a usage error, 3 some points were not written, 130 interrupted. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_WRITTEN = 3;
export const EXIT_INTERRUPTED = 130;

/** An error whose message is meant for the user as is (no stack trace). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_ERROR, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Bad arguments: the message, and a pointer to --help. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}
