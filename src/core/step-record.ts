/** One step of a command as its JSON report lists it (`steps: [{title, status, startedAt, endedAt, detail}]`). */
export interface StepRecord {
  title: string;
  status: "succeeded" | "failed" | "skipped" | "pending";
  startedAt?: string;
  endedAt?: string;
  detail?: string;
}
