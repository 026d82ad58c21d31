/**
 * Jobs and CronJobs on the simulated cluster: runs that succeed or fail as the sandbox annotations
 * say, backoffLimit and activeDeadlineSeconds, CronJob schedules on a time zone's wall clock,
 * concurrencyPolicy, history limits, and a Job created by hand from a CronJob's template.
 */
import { describe, expect, it } from "vitest";
import { parseCron } from "../../src/controllers/cron.js";
import { SandboxAnnotations } from "../../src/controllers/index.js";
import type { KubeObject } from "../../src/types.js";
import { condition } from "../support/registry-objects.js";
import { type SimulatedCluster, simulatedClusterPerTest } from "../support/simulated-cluster.js";

const startCluster = simulatedClusterPerTest({ seed: 11, start: Date.parse("2025-06-01T10:00:30Z") });

function podTemplate(annotations: Record<string, string> = {}) {
  return {
    metadata: { annotations },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "backup", image: "amazon/aws-cli:2.17.0", command: ["/bin/sh", "-c", "backup"] }],
    },
  };
}

function job(
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "registry" },
    spec: { template: podTemplate(annotations), ...spec },
  };
}

const jobPods = (c: SimulatedCluster, name: string) =>
  c.store.list("Pod", { namespace: "registry", labelSelector: `job-name=${name}` });

describe("Job", () => {
  it("runs a pod for the simulated duration and completes", async () => {
    const c = startCluster();
    c.store.create(job("once", { backoffLimit: 2 }, { [SandboxAnnotations.duration]: "20" }));
    await c.clock.advance(15_000);
    expect(c.store.get("Job", "registry", "once")!.status).toMatchObject({ active: 1 });
    expect(jobPods(c, "once")[0]!.status.phase).toBe("Running");
    await c.clock.advance(15_000);
    const done = c.store.get("Job", "registry", "once")!;
    expect(done.status).toMatchObject({ succeeded: 1, ready: 0 });
    expect(done.status.active).toBeUndefined();
    expect(condition(done, "Complete")).toMatchObject({ status: "True" });
    expect(condition(done, "SuccessCriteriaMet")).toMatchObject({ status: "True" });
    expect(done.status.completionTime).toBeDefined();
    const pod = jobPods(c, "once")[0]!;
    expect(pod.status.phase).toBe("Succeeded");
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("retries failed pods with back-off and fails past backoffLimit", async () => {
    const c = startCluster();
    c.store.create(
      job(
        "broken",
        { backoffLimit: 2 },
        { [SandboxAnnotations.fail]: "true", [SandboxAnnotations.failMessage]: "upload failed" },
      ),
    );
    await c.clock.advance(10 * 60_000);
    const failed = c.store.get("Job", "registry", "broken")!;
    expect(failed.status).toMatchObject({ failed: 3 });
    expect(condition(failed, "Failed")).toMatchObject({
      status: "True",
      reason: "BackoffLimitExceeded",
      message: "Job has reached the specified backoff limit",
    });
    const pods = jobPods(c, "broken");
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.status.phase === "Failed")).toBe(true);
    expect(pods[0]!.status.containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 1,
      reason: "Error",
      message: "upload failed",
    });
    // 10 s, then 20 s between attempts.
    const created = pods.map((p) => Date.parse(p.metadata.creationTimestamp!)).sort();
    expect(created[1]! - created[0]!).toBeGreaterThanOrEqual(10_000 + 5_000);
    expect(created[2]! - created[1]!).toBeGreaterThanOrEqual(20_000 + 5_000);
  });

  it("succeeds on a later attempt when only the first ones fail", async () => {
    const c = startCluster();
    c.store.create(job("flaky", { backoffLimit: 3 }, { [SandboxAnnotations.failAttempts]: "1" }));
    await c.clock.advance(5 * 60_000);
    const flaky = c.store.get("Job", "registry", "flaky")!;
    expect(flaky.status).toMatchObject({ succeeded: 1, failed: 1 });
    expect(condition(flaky, "Complete")?.status).toBe("True");
  });

  it("stops a Job that outlives activeDeadlineSeconds", async () => {
    const c = startCluster();
    c.store.create(job("slow", { activeDeadlineSeconds: 60 }, { [SandboxAnnotations.duration]: "600" }));
    await c.clock.advance(90_000);
    const slow = c.store.get("Job", "registry", "slow")!;
    expect(condition(slow, "Failed")).toMatchObject({
      reason: "DeadlineExceeded",
      message: "Job was active longer than specified deadline",
    });
    await c.clock.advance(60_000);
    expect(jobPods(c, "slow")).toHaveLength(0);
  });
});

describe("CronJob", () => {
  function cronJob(spec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject {
    return {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "registry-backup", namespace: "registry" },
      spec: {
        schedule: "*/5 * * * *",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 300,
        jobTemplate: { spec: { backoffLimit: 1, template: podTemplate(annotations) } },
        ...spec,
      },
    };
  }

  it("creates a Job at the scheduled time whose pod runs to Complete", async () => {
    const c = startCluster();
    c.store.create(cronJob({}, { [SandboxAnnotations.duration]: "40" }));
    await c.clock.advance(4 * 60_000); // 10:04:30: nothing yet
    expect(c.store.list("Job", { namespace: "registry" })).toHaveLength(0);
    await c.clock.advance(60_000); // past 10:05
    const scheduled = Date.parse("2025-06-01T10:05:00Z");
    const [created] = c.store.list("Job", { namespace: "registry" });
    expect(created!.metadata.name).toBe(`registry-backup-${scheduled / 60_000}`);
    expect(created!.metadata.ownerReferences![0]).toMatchObject({
      kind: "CronJob",
      name: "registry-backup",
      controller: true,
    });
    expect(created!.metadata.annotations!["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toBe(
      "2025-06-01T10:05:00Z",
    );
    const cj = () => c.store.get("CronJob", "registry", "registry-backup")!;
    expect(cj().status.lastScheduleTime).toBe("2025-06-01T10:05:00Z");
    expect(cj().status.active).toHaveLength(1);
    await c.clock.advance(60_000);
    const done = c.store.get("Job", "registry", created!.metadata.name)!;
    expect(condition(done, "Complete")?.status).toBe("True");
    expect(jobPods(c, created!.metadata.name)[0]!.status.phase).toBe("Succeeded");
    expect(cj().status.active).toBeUndefined();
    expect(cj().status.lastSuccessfulTime).toBeDefined();
  });

  it("skips runs while one is active under Forbid, and keeps only the history limits", async () => {
    const c = startCluster();
    c.store.create(cronJob({ successfulJobsHistoryLimit: 1 }, { [SandboxAnnotations.duration]: "420" }));
    await c.clock.advance(11 * 60_000); // 10:11:30: the 10:05 run lasts 7 minutes, so 10:10 was skipped
    expect(c.store.list("Job", { namespace: "registry" }).map((j) => j.metadata.name)).toEqual([
      `registry-backup-${Date.parse("2025-06-01T10:05:00Z") / 60_000}`,
    ]);
    const skipped = c.store
      .list("Event", { namespace: "registry" })
      .filter((e) => e.reason === "JobAlreadyActive");
    expect(skipped.length).toBeGreaterThan(0);
    await c.clock.advance(30 * 60_000);
    const jobs = c.store.list("Job", { namespace: "registry" });
    const finished = jobs.filter((j) => condition(j, "Complete")?.status === "True");
    expect(finished).toHaveLength(1);
  });

  it("replaces a still running Job under concurrencyPolicy Replace", async () => {
    const c = startCluster();
    c.store.create(cronJob({ concurrencyPolicy: "Replace" }, { [SandboxAnnotations.duration]: "420" }));
    await c.clock.advance(5 * 60_000); // 10:05:30
    const first = `registry-backup-${Date.parse("2025-06-01T10:05:00Z") / 60_000}`;
    expect(c.store.get("Job", "registry", first)).toBeDefined();
    await c.clock.advance(5 * 60_000); // 10:10:30
    const second = `registry-backup-${Date.parse("2025-06-01T10:10:00Z") / 60_000}`;
    expect(c.store.get("Job", "registry", first)).toBeUndefined();
    expect(c.store.get("Job", "registry", second)).toBeDefined();
    const cj = c.store.get("CronJob", "registry", "registry-backup")!;
    expect(cj.status.active.map((ref: { name: string }) => ref.name)).toEqual([second]);
  });

  it("runs a Job created by hand from the CronJob's template like any other", async () => {
    const c = startCluster();
    const cj = c.store.create(cronJob({ suspend: true }));
    c.store.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: "registry-backup-manual-1",
        namespace: "registry",
        annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
        ownerReferences: [
          {
            apiVersion: "batch/v1",
            kind: "CronJob",
            name: "registry-backup",
            uid: cj.metadata.uid!,
            controller: true,
          },
        ],
      },
      spec: structuredClone(cj.spec.jobTemplate.spec),
    });
    await c.clock.advance(30_000);
    expect(condition(c.store.get("Job", "registry", "registry-backup-manual-1"), "Complete")?.status).toBe(
      "True",
    );
    expect(c.store.get("CronJob", "registry", "registry-backup")!.status.lastSuccessfulTime).toBeDefined();
  });
});

describe("cron schedules", () => {
  const at = (iso: string) => Date.parse(iso);
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

  it("follows minute, hour, list, range and step fields and the macros", () => {
    expect(iso(parseCron("*/15 * * * *").next(at("2025-06-01T10:07:00Z")))).toBe("2025-06-01T10:15:00.000Z");
    expect(iso(parseCron("0 3 * * *").next(at("2025-06-01T10:07:00Z")))).toBe("2025-06-02T03:00:00.000Z");
    expect(iso(parseCron("30 1-2 * * mon-fri").next(at("2025-06-01T10:07:00Z")))).toBe(
      "2025-06-02T01:30:00.000Z",
    );
    expect(iso(parseCron("@monthly").next(at("2025-06-01T10:07:00Z")))).toBe("2025-07-01T00:00:00.000Z");
    expect(iso(parseCron("0 0 1,15 JAN *").next(at("2025-06-01T00:00:00Z")))).toBe(
      "2026-01-01T00:00:00.000Z",
    );
  });

  it("ORs day of month and day of week when both are restricted", () => {
    // 2025-06-01 is a Sunday: the next 13th or Friday is Friday 2025-06-06.
    expect(iso(parseCron("0 0 13 * 5").next(at("2025-06-01T12:00:00Z")))).toBe("2025-06-06T00:00:00.000Z");
  });

  it("runs on the wall clock of the time zone, and formats the scheduled time with its offset", () => {
    const berlin = parseCron("0 3 * * *", "Europe/Berlin");
    const next = berlin.next(at("2025-06-01T10:00:00Z"));
    expect(iso(next)).toBe("2025-06-02T01:00:00.000Z");
    expect(berlin.format(next!)).toBe("2025-06-02T03:00:00+02:00");
  });

  it("rejects what the controller cannot parse", () => {
    expect(() => parseCron("0 3 * *")).toThrow(/expected exactly 5 fields/);
    expect(() => parseCron("61 * * * *")).toThrow();
    expect(() => parseCron("0 3 * * *", "Mars/Olympus")).toThrow();
  });
});
