/**
 * Records each step for the JSON report (`steps: [{title, status, startedAt, endedAt, detail}]`): the
 * title the step left behind, and the detail it put in the context (what it did, in one line).
 */
import type { ListrTask } from "listr2";
import type { StepRecord } from "../../core/upgrade/report.js";
import type { UpgradeContext } from "./context.js";

export function recordedSteps(
  tasks: ListrTask<UpgradeContext>[],
  records: StepRecord[],
): ListrTask<UpgradeContext>[] {
  return tasks.map((t) => {
    const record: StepRecord = { title: String(t.title ?? ""), status: "pending" };
    records.push(record);
    return {
      ...t,
      task: async (ctx, task) => {
        record.startedAt = new Date().toISOString();
        ctx.detail = undefined;
        ctx.skipped = undefined;
        try {
          const result = await t.task(ctx, task);
          record.status = ctx.skipped ? "skipped" : "succeeded";
          return result;
        } catch (error) {
          record.status = "failed";
          ctx.detail = error instanceof Error ? error.message : String(error);
          throw error;
        } finally {
          record.endedAt = new Date().toISOString();
          record.title = String(task.title ?? record.title);
          if (ctx.skipped || ctx.detail) record.detail = ctx.skipped ?? ctx.detail;
        }
      },
    };
  });
}
