/**
 * The mark of this test run (CLOUDDROVE_TEST_RUN=...), which the environments that tests give commands
 * carry, so that the sandboxes those commands start can be told apart from another run's
 * (test/support/no-leftover-sandboxes.ts).
 */
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    sandboxRunMark: string;
  }
}

export function runMark(): { CLOUDDROVE_TEST_RUN: string } {
  return { CLOUDDROVE_TEST_RUN: inject("sandboxRunMark") };
}
