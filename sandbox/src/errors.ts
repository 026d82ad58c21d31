/**
 * The sandbox's own errors for the operations it offers its callers (tests, the CLI's `sandbox`
 * commands): a message that says what happened and a hint that names the fix. The kind maps to the exit
 * code a command-line caller should use: 2 for a request that was wrong (nothing changed), 1 for an
 * operation that was attempted and failed.
 */
export interface SandboxErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message. */
  details?: string[];
}

export class SandboxError extends Error {
  readonly exitCode: 1 | 2;
  readonly hint?: string;
  readonly details: string[];

  constructor(message: string, exitCode: 1 | 2, options: SandboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** The request was wrong (no such node, a malformed version): nothing changed. */
export class UsageError extends SandboxError {
  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, 2, options);
  }
}

/** The operation was attempted and failed. */
export class OperationError extends SandboxError {
  constructor(message: string, options: SandboxErrorOptions = {}) {
    super(message, 1, options);
  }
}
