/**
 * The pure parts of `clouddrove gc`: the ConfigMap's garbage-collect flags, the read-only switch of the
 * registry config and the Deployment's checksum, the Job's log (real logs of collect.sh run against
 * Distribution 2.8.2 and 3.0.0 with --delete-untagged, in test/fixtures/gc/), the Job as rendered, the
 * report and status's warning.
 */
import { readFileSync } from "node:fs";
import type { V1ConfigMap, V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseGcFlags } from "../../src/core/gc/flags.js";
import { gcOutcome, parseGcLog } from "../../src/core/gc/job-log.js";
import {
  isReadOnly,
  READ_ONLY_ANNOTATIONS,
  readOnlyChecksum,
  readOnlyPair,
  readOnlyState,
  withReadOnly,
  writablePair,
} from "../../src/core/gc/read-only.js";
import { gcNames, renderGcJob } from "../../src/core/gc/render.js";
import { type GcReport, gcReportText, readOnlyWarning } from "../../src/core/gc/report.js";
import { names } from "../../src/core/render/names.js";
import { renderRegistryConfig } from "../../src/core/render/registry-config.js";
import { UsageError } from "../../src/errors.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/gc/${name}`, import.meta.url), "utf8");

describe("garbage-collect flags", () => {
  it("reads the ConfigMap's default and --delete-untagged in Go's boolean forms", () => {
    expect(parseGcFlags("--dry-run=false --delete-untagged=false")).toEqual({ deleteUntagged: false });
    expect(parseGcFlags("--delete-untagged")).toEqual({ deleteUntagged: true });
    expect(parseGcFlags("-m=true --dry-run")).toEqual({ deleteUntagged: true });
    expect(parseGcFlags(undefined)).toEqual({ deleteUntagged: false });
  });

  it("refuses what it would not pass on, with exit 2 and the ConfigMap to fix", () => {
    for (const text of ["--delete-untagged=maybe", "--quiet", "rm -rf"]) {
      const error = (() => {
        try {
          parseGcFlags(text);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain("garbage-collect-flags");
      expect((error as UsageError).hint).toContain(names.configMap);
    }
  });
});

describe("the read-only switch", () => {
  const configMap = async (): Promise<V1ConfigMap> => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: names.configMap, namespace: "clouddrove" },
    data: {
      "config.yml": await renderRegistryConfig("tls"),
      "garbage-collect-flags": "--delete-untagged=false",
    },
  });
  const deployment: V1Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: names.deployment },
    spec: {
      selector: {},
      template: { metadata: { annotations: { [names.annotations.configChecksum]: "writable-sum" } } },
    },
  };

  it("sets storage.maintenance.readonly.enabled and keeps the rest of config.yml as it was", async () => {
    const text = (await configMap()).data?.["config.yml"] as string;
    expect(await isReadOnly(text)).toBe(false);
    const readOnly = await withReadOnly(text, true);
    expect(await isReadOnly(readOnly)).toBe(true);
    expect(parse(readOnly, { version: "1.1" }).storage.maintenance.readonly).toEqual({ enabled: true });
    // Comments (the ConfigMap's explanations) survive; the rest parses to the same values.
    expect(readOnly).toContain("# Garbage collection needs the registry read-only");
    const back = await withReadOnly(readOnly, false);
    expect(parse(back, { version: "1.1" })).toEqual(parse(text, { version: "1.1" }));
  });

  it("rolls the pods with another checksum and puts the writable one back", async () => {
    const live = { configMap: await configMap(), deployment };
    const at = new Date("2026-12-07T02:00:00Z");
    const readOnly = await readOnlyPair(live, at);
    const checksum = (d: V1Deployment) =>
      d.spec?.template.metadata?.annotations?.[names.annotations.configChecksum];
    expect(checksum(readOnly.deployment)).toBe(readOnlyChecksum("writable-sum"));
    expect(readOnly.configMap.metadata?.annotations).toEqual({
      [READ_ONLY_ANNOTATIONS.reason]: "garbage-collection",
      [READ_ONLY_ANNOTATIONS.since]: at.toISOString(),
      [READ_ONLY_ANNOTATIONS.writableChecksum]: "writable-sum",
    });
    expect(await readOnlyState(readOnly.configMap)).toEqual({
      reason: "garbage-collection",
      since: at.toISOString(),
    });
    // A second switch (a re-run after an interruption) keeps what the first saved.
    const again = await readOnlyPair(readOnly, new Date("2026-12-07T03:00:00Z"));
    expect(again.configMap).toEqual(readOnly.configMap);
    expect(checksum(again.deployment)).toBe(checksum(readOnly.deployment));

    const writable = await writablePair(readOnly);
    expect(checksum(writable.deployment)).toBe("writable-sum");
    expect(writable.configMap.metadata?.annotations).toEqual({});
    expect(writable.configMap.data).toEqual(live.configMap.data);
    expect(await readOnlyState(writable.configMap)).toBeUndefined();
    // The live objects are not changed in place.
    expect(checksum(live.deployment)).toBe("writable-sum");
  });
});

describe("the Job's log", () => {
  for (const version of ["2.8.2", "3.0.0"]) {
    it(`reads collect.sh's log with Distribution ${version}: counts, sizes, the sweep and the check`, () => {
      const log = parseGcLog(fixture(`untagged-${version}.log`));
      expect(log.problems).toEqual([]);
      expect(log.done).toBe(true);
      expect(log.plan).toEqual({ exit: 0, blobs: 7, manifests: 1, bytes: 3908 });
      expect(log.registryCounts).toEqual({ marked: 6, blobs: 7, manifests: 1 });
      expect(log.blobs).toHaveLength(7);
      expect(log.blobs.reduce((sum, blob) => sum + (blob.bytes ?? 0), 0)).toBe(3908);
      expect(log.manifests).toEqual([
        version === "2.8.2"
          ? "sha256:37f23aca8f832170f3b3f268afe2886221103c198c0c711ece6da075618ef555"
          : "app/one@sha256:37f23aca8f832170f3b3f268afe2886221103c198c0c711ece6da075618ef555",
      ]);
      expect(log.sweep?.exit).toBe(0);
      expect(log.check).toEqual({ exit: 0, blobs: 0, manifests: 0, bytes: 0 });
      expect(gcOutcome(log)).toEqual({ blobs: 7, manifests: 1, bytes: 3908, remaining: 0 });
    });
  }

  it("a dry run has a plan and no sweep; a failed plan has its exit status; counts that disagree are a problem", () => {
    const dry = parseGcLog(
      [
        "clouddrove-gc plan: registry garbage-collect --dry-run=true --delete-untagged=false /c.yml",
        "1 blobs marked, 2 blobs and 0 manifests eligible for deletion",
        `blob eligible for deletion: sha256:${"a".repeat(64)} size=10`,
        "clouddrove-gc plan exit=0 blobs=1 manifests=0 bytes=10",
        "clouddrove-gc done dry-run=true",
      ].join("\n"),
    );
    expect(gcOutcome(dry)).toEqual({ blobs: 1, manifests: 0, bytes: 10, remaining: null });
    expect(dry.problems).toEqual(["the plan counted 1 blob(s) and 0 manifest(s), the registry 2 and 0"]);
    const failed = parseGcLog(
      "clouddrove-gc plan: x\nfailed to parse config\nclouddrove-gc plan exit=1 blobs=0 manifests=0 bytes=0\n",
    );
    expect(failed.plan?.exit).toBe(1);
    expect(failed.done).toBe(false);
    expect(gcOutcome(parseGcLog("nothing of ours"))).toBeUndefined();
  });
});

describe("the Job", () => {
  const deployment = (image: string, args: string[], mountPath: string): V1Deployment => ({
    spec: {
      selector: {},
      template: {
        spec: {
          containers: [
            { name: "registry", image, args, volumeMounts: [{ name: "config", mountPath, readOnly: true }] },
          ],
        },
      },
    },
  });

  it("runs collect.sh with the Deployment's image and config path, the claim, and the choices", async () => {
    const job = await renderGcJob({
      namespace: "reg",
      name: "registry-clouddrove-gc-20261207-020000-ab12",
      deployment: deployment(
        "registry:3.0.0",
        ["serve", "/etc/distribution/config.yml"],
        "/etc/distribution",
      ),
      dryRun: false,
      deleteUntagged: true,
    });
    expect(job.metadata).toMatchObject({
      name: "registry-clouddrove-gc-20261207-020000-ab12",
      namespace: "reg",
    });
    const pod = job.spec?.template.spec;
    const container = pod?.containers.find((c) => c.name === gcNames.container);
    expect(container?.image).toBe("registry:3.0.0");
    expect(container?.command).toEqual(["/bin/sh", "-c"]);
    expect(container?.args).toEqual([
      readFileSync(new URL("../../templates/gc/collect.sh", import.meta.url), "utf8"),
    ]);
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      GC_CONFIG: "/etc/distribution/config.yml",
      DATA_DIR: names.dataPath,
      GC_DRY_RUN: "false",
      GC_DELETE_UNTAGGED: "true",
    });
    expect(container?.volumeMounts).toEqual([
      { name: "data", mountPath: names.dataPath },
      { name: "config", mountPath: "/etc/distribution", readOnly: true },
    ]);
    expect(pod?.volumes?.find((v) => v.name === "data")?.persistentVolumeClaim?.claimName).toBe(names.claim);
    expect(pod?.volumes?.find((v) => v.name === "config")?.configMap?.name).toBe(names.configMap);
    // Pod Security "restricted", as the backup Job.
    expect(container?.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod?.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
    expect(job.spec?.template.metadata?.labels?.["app.kubernetes.io/component"]).toBe("gc");
  });

  it("a dry run mounts the store read-only; 2.8.2 reads the v2 config path", async () => {
    const job = await renderGcJob({
      namespace: "clouddrove",
      name: "gc",
      deployment: deployment(
        "registry:2.8.2",
        ["serve", "/etc/docker/registry/config.yml"],
        "/etc/docker/registry",
      ),
      dryRun: true,
      deleteUntagged: false,
    });
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.volumeMounts?.[0]).toEqual({ name: "data", mountPath: names.dataPath, readOnly: true });
    expect(container?.env?.find((e) => e.name === "GC_CONFIG")?.value).toBe(
      "/etc/docker/registry/config.yml",
    );
    expect(container?.env?.find((e) => e.name === "GC_DRY_RUN")?.value).toBe("true");
  });
});

describe("the report and status's warning", () => {
  const report: GcReport = {
    ok: true,
    dryRun: false,
    target: "sandbox",
    namespace: "clouddrove",
    image: "registry:2.8.2",
    job: "registry-clouddrove-gc-x",
    deleteUntagged: false,
    freed: { blobs: 3, manifests: 0, bytes: 3 * 1024 * 1024 },
    remaining: 0,
    minimumReady: 2,
    readOnly: [
      {
        pod: "registry-a",
        pull: { status: 200, what: "app/two:v1 sha256:x" },
        push: { status: 405, code: "HTTP_405" },
      },
    ],
    resumed: false,
    healthy: true,
    failure: null,
    warnings: [],
    steps: [],
  };

  it("says what was freed, how the replicas answered and the fewest ready", () => {
    const text = gcReportText(report);
    expect(text).toContain("freed: 3.0 MiB (3145728 bytes) in 3 blob(s); 0 untagged manifest(s)");
    expect(text).toContain("registry-a: pull 200 (app/two:v1 sha256:x), push refused 405 HTTP_405");
    expect(text).toContain("fewest replicas ready while rolling: 2");
    expect(gcReportText({ ...report, dryRun: true })).toContain("would free: 3.0 MiB");
  });

  it("tells an interrupted garbage collection from a running one and from another reason", () => {
    const state = { reason: "garbage-collection", since: "2026-12-07T02:00:00.000Z" };
    expect(readOnlyWarning(state, undefined)).toContain(
      "read-only since 2026-12-07T02:00:00.000Z (garbage collection interrupted)",
    );
    const holder = { identity: "x", who: "bob@host", pid: "7", command: "gc", since: "now" };
    expect(readOnlyWarning(state, holder)).toContain("(garbage collection running: bob@host (pid 7)");
    expect(readOnlyWarning(state, { ...holder, command: "backup now" })).toContain("interrupted");
    expect(readOnlyWarning({ reason: undefined, since: undefined }, undefined)).toContain(
      "clouddrove deploy makes it writable",
    );
  });
});
