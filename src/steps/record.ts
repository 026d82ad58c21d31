/**
 * Records each step's title, outcome and times for the JSON report (`steps: [{title, status, startedAt,
 * endedAt}]`), without the steps knowing: the wrapper reads the title the step left behind.
 */
import type { ListrTask } from "listr2";

export interface StepRecord {
  title: string;
  status: "succeeded" | "failed" | "skipped" | "pending";
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}

export function recorded<C>(tasks: ListrTask<C>[], records: StepRecord[]): ListrTask<C>[] {
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
        }
      },
    };
  });
}
