/**
 * Records each step's title, outcome and times for the JSON report (`steps: [{title, status, startedAt,
 * endedAt}]`), without the steps knowing: the wrapper reads the title the step left behind. A command
 * whose steps also leave something in their context (upgrade: a detail, a reason for skipping) completes
 * each record through the hooks.
 */
import type { ListrTask } from "listr2";
import type { StepRecord } from "../core/step-record.js";

export type { StepRecord } from "../core/step-record.js";

export interface RecordHooks<C> {
  /** Before each step runs. */
  starting?(ctx: C): void;
  /** After each step, whatever its outcome (`failed`: it threw), once the record has its status. */
  ended?(ctx: C, record: StepRecord, failed: boolean): void;
}

export function recorded<C>(
  tasks: ListrTask<C>[],
  records: StepRecord[],
  hooks: RecordHooks<C> = {},
): ListrTask<C>[] {
  return tasks.map((t) => {
    const record: StepRecord = { title: String(t.title ?? ""), status: "pending" };
    records.push(record);
    const skip = t.skip;
    return {
      ...t,
      skip: skip
        ? async (ctx: C) => {
            const reason = typeof skip === "function" ? await skip(ctx) : skip;
            if (reason) {
              record.status = "skipped";
              if (typeof reason === "string") record.detail = reason;
            }
            return reason;
          }
        : undefined,
      task: async (ctx, task) => {
        record.startedAt = new Date().toISOString();
        hooks.starting?.(ctx);
        try {
          const result = await t.task(ctx, task);
          record.status = "succeeded";
          return result;
        } catch (error) {
          record.status = "failed";
          record.detail = error instanceof Error ? error.message : String(error);
          throw error;
        } finally {
          record.endedAt = new Date().toISOString();
          record.title = String(task.title ?? record.title);
          hooks.ended?.(ctx, record, record.status === "failed");
        }
      },
    };
  });
}
