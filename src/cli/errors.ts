/** An error the CLI reports as one line and an exit status, never as a stack trace. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit with a status and nothing more to say (the command printed its own output). */
export function exitStatus(status: number): void {
  if (status !== 0) throw new CliError('', status);
}
