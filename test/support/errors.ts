/** Expectations about the errors users see. */
import { expect } from "vitest";
import { ExitCode, UsageError } from "../../src/errors.js";

/** Runs `run`, which must throw a UsageError (exit 2); returns it, for the test to read its message and hint. */
export function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}
