/**
 * Records each upgrade step for the JSON report (`steps: [{title, status, startedAt, endedAt, detail}]`):
 * the shared recorder (steps/record.ts), completed with what the step put in the context -- the detail
 * (what it did, in one line) and, for a step with nothing to do, why it was skipped.
 */
import type { ListrTask } from "listr2";
import type { StepRecord } from "../../core/step-record.js";
import { recorded } from "../record.js";
import type { UpgradeContext } from "./context.js";

export function recordedSteps(
  tasks: ListrTask<UpgradeContext>[],
  records: StepRecord[],
): ListrTask<UpgradeContext>[] {
  return recorded(tasks, records, {
    starting(ctx) {
      ctx.detail = undefined;
      ctx.skipped = undefined;
    },
    ended(ctx, record, failed) {
      // A failure's detail is its error, as the shared recorder wrote it.
      if (failed) ctx.detail = record.detail;
      else if (ctx.skipped) record.status = "skipped";
      if (ctx.skipped || ctx.detail) record.detail = ctx.skipped ?? ctx.detail;
    },
  });
}
