/**
 * Typed errors. Every error that reaches the user carries an exit code and a hint that names the fix;
 * the one top-level catch in cli.ts maps them to the process exit code (docs/architecture.md,
 * "Conventions", exit codes).
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  credentials: 4,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ClouddroveErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message (e.g. one per invalid setting). */
  details?: string[];
}

export class ClouddroveError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly details: string[];

  constructor(message: string, exitCode: ExitCode, options: ClouddroveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** Bad input: nothing was changed. Exit 2. */
export class UsageError extends ClouddroveError {
  constructor(message: string, options: ClouddroveErrorOptions = {}) {
    super(message, ExitCode.usage, options);
  }
}

/** The operation was attempted and failed (or the cluster is unhealthy). Exit 1. */
export class OperationError extends ClouddroveError {
  constructor(message: string, options: ClouddroveErrorOptions = {}) {
    super(message, ExitCode.failed, options);
  }
}

/** Credentials missing or the cluster/cloud unreachable. Exit 4. */
export class CredentialsError extends ClouddroveError {
  constructor(message: string, options: ClouddroveErrorOptions = {}) {
    super(message, ExitCode.credentials, options);
  }
}

/** Ctrl-C, at a prompt or between steps. Exit 130, never a stack trace. */
export class InterruptedError extends ClouddroveError {
  constructor(message = "Interrupted.", options: ClouddroveErrorOptions = {}) {
    super(message, ExitCode.interrupted, options);
  }
}

export function isClouddroveError(error: unknown): error is ClouddroveError {
  return error instanceof ClouddroveError;
}
