/**
 * `clouddrove gc` against the sandbox as a user runs it (in-process CLI, kubeconfig of a sandbox the test
 * started): the sandbox runs the registry replicas and the gc Job's container with the real Distribution
 * 2.8.2 binary on the sandbox's volume directory. Images of two repositories share a layer; one image's
 * manifest is deleted. `gc --dry-run` reports that image's unique blobs and frees nothing; `gc --yes`
 * frees exactly them (files checked on the volume) while every other manifest and blob stays byte for
 * byte; during the read-only window pulls through the load balancer succeed and pushes get the
 * registry's 405; afterwards pushes work and status is healthy. Interruptions: a Ctrl-C after the switch
 * leaves the registry read-only, status names it and the next gc completes it; a deploy restores writes
 * too; a failure while a gc Job still runs keeps it read-only (the next gc waits for that Job), one with
 * no Job running switches back by itself. Without a terminal and --yes, and with the lock held by
 * another operator, it refuses with exit 2 and changes nothing.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistentVolumeDirectory } from "../../sandbox/src/runtime/layout.js";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { connectKube } from "../../src/adapters/connect.js";
import {
  deleteManifest,
  getBlob,
  getManifest,
  MEDIA_TYPES,
  pushBlob,
  pushRandomImage,
  putManifest,
  RegistryApiError,
  type RegistryEndpoint,
  sha256Digest,
  startUpload,
} from "../../src/adapters/registry.js";
import { formatBytes } from "../../src/core/backup/job-log.js";
import { forApply } from "../../src/core/deploy/objects.js";
import { readOnlyPair } from "../../src/core/gc/read-only.js";
import type { GcReport } from "../../src/core/gc/report.js";
import { heldLease } from "../../src/core/lock/lease.js";
import { names } from "../../src/core/render/names.js";
import { cleanEnv, runCli } from "../support/run-cli.js";
import {
  loadBalancerUrl,
  PASSWORD,
  readyRegistryPods,
  SANDBOX_DEPLOY,
  withCredentials,
} from "./sandbox-runtime-support.js";

const NS = "clouddrove";
let work: string;
let sbx: TestSandbox;

const env = () => cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD });
const cli = (args: string[]) => runCli(["--kubeconfig", sbx.kubeconfigPath, ...args], { env: env() });

interface Image {
  repository: string;
  tag: string;
  manifest: string;
  blobs: string[];
}

/** A schema2 image of the given layers (pushed unless already there) and a fresh config blob. */
async function pushImage(
  e: RegistryEndpoint,
  repository: string,
  tag: string,
  layers: Buffer[],
): Promise<Image> {
  const layerDigests: string[] = [];
  for (const layer of layers) layerDigests.push(await pushBlob(e, repository, layer));
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: layerDigests },
      tag,
    }),
  );
  const configDigest = await pushBlob(e, repository, config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifestV2,
    config: { mediaType: MEDIA_TYPES.imageConfig, size: config.length, digest: configDigest },
    layers: layers.map((layer, i) => ({
      mediaType: MEDIA_TYPES.layer,
      size: layer.length,
      digest: layerDigests[i],
    })),
  });
  const digest = await putManifest(e, repository, tag, manifest, MEDIA_TYPES.manifestV2);
  return { repository, tag, manifest: digest, blobs: [configDigest, ...layerDigests] };
}

/** Where a blob's data file is on the sandbox's volume. */
function blobFile(digest: string): string {
  const volume = sbx.sandbox.store.get("PersistentVolume", undefined, names.volume(NS));
  if (!volume) throw new Error("the registry's PersistentVolume is missing");
  const hex = digest.replace(/^sha256:/, "");
  return join(
    persistentVolumeDirectory(join(work, "state", "volumes"), volume),
    "docker/registry/v2/blobs/sha256",
    hex.slice(0, 2),
    hex,
    "data",
  );
}

const sha256OfFile = (path: string) =>
  `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;

/** Each image's manifest digest and every blob's content as the registry serves them now. */
async function served(e: RegistryEndpoint, images: Image[]): Promise<string[]> {
  const seen: string[] = [];
  for (const image of images) {
    const manifest = await getManifest(e, image.repository, image.tag);
    seen.push(`${image.repository}:${image.tag}=${manifest.digest}`);
    for (const blob of image.blobs)
      seen.push(`${blob}=${sha256Digest(await getBlob(e, image.repository, blob))}`);
  }
  return seen;
}

const json = <T>(stdout: string) => JSON.parse(stdout) as T;

/** What an interrupted run leaves behind: the switch to read-only applied and rolled, nothing after it. */
async function leaveReadOnly(): Promise<void> {
  const kube = await connectKube({ kubeconfigPath: sbx.kubeconfigPath, env: {} });
  const configMap = await kube.get("v1", "ConfigMap", names.configMap, NS);
  const deployment = await kube.get("apps/v1", "Deployment", names.deployment, NS);
  const pair = await readOnlyPair(
    { configMap: configMap as never, deployment: deployment as never },
    new Date(),
  );
  await kube.apply(forApply(pair.configMap as never, "v1", "ConfigMap") as never);
  await kube.apply(forApply(pair.deployment as never, "apps/v1", "Deployment") as never);
  await waitForRollout();
}

/** Until every replica runs the Deployment's current template. */
async function waitForRollout(): Promise<void> {
  const kube = await connectKube({ kubeconfigPath: sbx.kubeconfigPath, env: {} });
  await kube.waitFor<V1Deployment>(
    "apps/v1",
    "Deployment",
    names.deployment,
    NS,
    (d) =>
      (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      d.status?.updatedReplicas === 3 &&
      d.status?.readyReplicas === 3 &&
      d.status?.replicas === 3,
    120_000,
  );
  await readyRegistryPods(sbx.sandbox);
}

const deploy = () => cli([...SANDBOX_DEPLOY]);

const gcLabels = { "app.kubernetes.io/instance": "clouddrove", "app.kubernetes.io/component": "gc" };

/** A Job whose container (the registry image's shell, run for real by the sandbox) sleeps 40 s. */
async function startSleepingJob(name: string, labels: Record<string, string>): Promise<void> {
  const kube = await connectKube({ kubeconfigPath: sbx.kubeconfigPath, env: {} });
  await kube.apply({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: NS, labels },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "sleep", image: "registry:2.8.2", command: ["/bin/sh", "-c", "sleep 40"] }],
        },
      },
    },
  } as never);
}

let lb: RegistryEndpoint;
let deleted: Image;
let kept: Image[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "clouddrove-gc-sbx-"));
  sbx = await startTestSandbox({ controllers: true, speed: 200, stateDir: join(work, "state") });
  const deployed = await deploy();
  expect(deployed.stderr).not.toContain("Error");
  expect(deployed.code).toBe(0);
  await readyRegistryPods(sbx.sandbox);
  lb = withCredentials(loadBalancerUrl(sbx.sandbox) as string);
  const shared = randomBytes(8192);
  deleted = await pushImage(lb, "app/one", "old", [shared, randomBytes(4096)]);
  kept = [
    await pushImage(lb, "app/one", "new", [shared, randomBytes(3000)]),
    await pushImage(lb, "app/two", "v1", [shared, randomBytes(5000)]),
  ];
  // The same manifest under a second tag: one image, two tags.
  kept.push({ ...(kept[1] as Image), tag: "stable" });
  const second = await getManifest(lb, "app/two", "v1");
  await putManifest(lb, "app/two", "stable", second.body, second.mediaType);
  await deleteManifest(lb, "app/one", deleted.manifest);
}, 300_000);

afterAll(async () => {
  await sbx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The deleted image's blobs that no kept image references (its manifest, config and unique layer). */
const uniqueBlobs = () => {
  const referenced = new Set(kept.flatMap((image) => [image.manifest, ...image.blobs]));
  return [deleted.manifest, ...deleted.blobs].filter((digest) => !referenced.has(digest));
};

describe("clouddrove gc on the sandbox", () => {
  it("--dry-run reports the deleted image's unique blobs and frees nothing", async () => {
    const unique = uniqueBlobs();
    expect(unique).toHaveLength(3);
    const bytes = unique.reduce((sum, digest) => sum + readFileSync(blobFile(digest)).length, 0);
    const run = await cli(["-o", "json", "gc", "--dry-run"]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = json<GcReport>(run.stdout);
    expect(report).toMatchObject({ ok: true, dryRun: true, freed: { blobs: 3, manifests: 0, bytes } });
    expect(report.readOnly).toEqual([]);
    const text = await cli(["gc", "--dry-run"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`would free: ${formatBytes(bytes)} (${bytes} bytes) in 3 blob(s)`);
    for (const digest of unique) expect(existsSync(blobFile(digest))).toBe(true);
    // The registry stayed writable: a push goes through.
    await pushRandomImage(lb, "app/dry", "v1", { layers: 1, layerSize: 512 });
  }, 300_000);

  it("--yes frees exactly those blobs, pulls succeed and pushes get 405 while read-only", async () => {
    const unique = uniqueBlobs();
    const before = await served(lb, kept);
    const keptFiles = kept.flatMap((image) => [image.manifest, ...image.blobs]).map(blobFile);
    const sizes = unique.reduce((sum, digest) => sum + readFileSync(blobFile(digest)).length, 0);

    // Poll through the load balancer while gc runs: every pull must succeed; pushes are refused
    // with 405 for a while (the read-only window), accepted before and after it. A connection the load
    // balancer had to a replica that is being replaced can be cut under a request (no HTTP answer at
    // all); a client tries that again, as docker does, and the second try must get the manifest.
    const pushes: number[] = [];
    const pulls: string[] = [];
    let retried = 0;
    let polling = true;
    const pull = async (): Promise<string> => {
      try {
        await getManifest(lb, "app/two", "v1");
        return "ok";
      } catch (error) {
        return error instanceof RegistryApiError && error.code === "UNREACHABLE"
          ? "cut"
          : (error as Error).message;
      }
    };
    const poll = (async () => {
      while (polling) {
        let result = await pull();
        if (result === "cut") {
          retried++;
          result = await pull();
        }
        pulls.push(result);
        try {
          await startUpload(lb, "app/poll");
          pushes.push(202);
        } catch (error) {
          pushes.push(error instanceof RegistryApiError ? error.status : -1);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const run = await cli(["-o", "json", "--yes", "gc"]);
    polling = false;
    await poll;
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = json<GcReport>(run.stdout);
    expect(report).toMatchObject({
      ok: true,
      dryRun: false,
      freed: { blobs: 3, manifests: 0, bytes: sizes },
      remaining: 0,
      healthy: true,
      resumed: false,
    });
    expect(report.minimumReady).toBeGreaterThanOrEqual(2);
    // Every ready replica was asked: a pull answered 200, the start of a push 405.
    expect(report.readOnly.length).toBe(3);
    for (const proof of report.readOnly) {
      expect(proof.pull.status).toBe(200);
      expect(proof.push.status).toBe(405);
    }
    expect(pulls.filter((p) => p !== "ok")).toEqual([]);
    expect(retried).toBeLessThan(pulls.length / 4);
    expect(pushes).toContain(405);

    for (const digest of unique) expect(existsSync(blobFile(digest))).toBe(false);
    for (const file of keptFiles) expect(existsSync(file)).toBe(true);
    for (const image of kept) for (const blob of image.blobs) expect(sha256OfFile(blobFile(blob))).toBe(blob);
    expect(await served(lb, kept)).toEqual(before);

    // Writable again: a push goes through, and status is healthy with no read-only warning.
    await pushRandomImage(lb, "app/after", "v1", { layers: 1, layerSize: 1024 });
    const status = await cli(["-o", "json", "status"]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(json<{ warnings: string[] }>(status.stdout).warnings)).not.toContain("read-only");
  }, 600_000);

  it("Ctrl-C after the switch leaves it read-only: status names it, the next gc completes it", async () => {
    const ctrlC = new AbortController();
    const interrupted = runCli(["--kubeconfig", sbx.kubeconfigPath, "--yes", "gc"], {
      env: env(),
      signal: ctrlC.signal,
    });
    const checksum = () =>
      sbx.sandbox.store.get("Deployment", NS, names.deployment)?.spec?.template?.metadata?.annotations?.[
        names.annotations.configChecksum
      ];
    const writable = checksum();
    // Both objects switched (the rollout to read-only has begun): Ctrl-C while it runs.
    const readOnlyApplied = () =>
      /readonly:\s+enabled: true/.test(
        sbx.sandbox.store.get("ConfigMap", NS, names.configMap)?.data?.["config.yml"] ?? "",
      ) && checksum() !== writable;
    for (let i = 0; i < 600 && !readOnlyApplied(); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readOnlyApplied()).toBe(true);
    ctrlC.abort();
    const stopped = await interrupted;
    expect(stopped.code).toBe(130);
    // The lock was freed; the Deployment goes on rolling to read-only in the cluster.
    expect(sbx.sandbox.store.get("Lease", NS, "registry-clouddrove-lock")).toBeUndefined();
    await waitForRollout();
    const status = await cli(["-o", "json", "status"]);
    const warnings = json<{ warnings: string[] }>(status.stdout).warnings.join("\n");
    expect(warnings).toContain("read-only since");
    expect(warnings).toContain("(garbage collection interrupted)");
    await expect(
      pushRandomImage(lb, "app/refused", "v1", { layers: 1, layerSize: 256 }),
    ).rejects.toMatchObject({
      status: 405,
    });
    const run = await cli(["-o", "json", "--yes", "gc"]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    expect(json<GcReport>(run.stdout)).toMatchObject({
      ok: true,
      resumed: true,
      freed: { blobs: 0 },
      healthy: true,
    });
    await pushRandomImage(lb, "app/resumed", "v1", { layers: 1, layerSize: 1024 });
    const after = await cli(["-o", "json", "status"]);
    expect(JSON.stringify(json<{ warnings: string[] }>(after.stdout).warnings)).not.toContain("read-only");
  }, 600_000);

  it("a deploy restores writes after an interrupted gc too", async () => {
    await leaveReadOnly();
    const run = await deploy();
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const configMap = sbx.sandbox.store.get("ConfigMap", NS, names.configMap);
    expect(configMap?.data?.["config.yml"]).toMatch(/readonly:\s+enabled: false/);
    expect(
      Object.keys(configMap?.metadata?.annotations ?? {}).filter((k) => k.includes("read-only")),
    ).toEqual([]);
    await readyRegistryPods(sbx.sandbox);
    await pushRandomImage(lb, "app/deployed", "v1", { layers: 1, layerSize: 1024 });
  }, 600_000);

  it("a gc Job still running keeps the registry read-only after a failure; the next gc waits for it", async () => {
    // A gc Job of an earlier run that is still going (its container runs for real: a shell that sleeps).
    await startSleepingJob("registry-clouddrove-gc-earlier", gcLabels);
    // Its deadline passes while this run waits for the earlier Job: a failure after the switch.
    const late = await cli(["--yes", "gc", "--job-timeout", "1s"]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(
      "the registry stays read-only while Job registry-clouddrove-gc-earlier runs",
    );
    expect(late.stderr).toContain("still READ-ONLY");
    const status = await cli(["-o", "json", "status"]);
    expect(json<{ warnings: string[] }>(status.stdout).warnings.join("\n")).toContain(
      "(garbage collection interrupted)",
    );
    const run = await cli(["-o", "json", "--yes", "gc"]);
    expect(run.stderr).not.toContain("Error");
    expect(run.code).toBe(0);
    const report = json<GcReport>(run.stdout);
    expect(report).toMatchObject({ ok: true, resumed: true, healthy: true });
    expect(report.warnings.join("\n")).toContain("waited for Job registry-clouddrove-gc-earlier");
    await pushRandomImage(lb, "app/late", "v1", { layers: 1, layerSize: 512 });
  }, 600_000);

  it("a failure with no gc Job running switches back to writable by itself", async () => {
    // A backup Job that runs (the CronJob's runs take no lock) outlasts --job-timeout: gc fails while
    // waiting for it, before its own Job exists.
    await startSleepingJob("registry-clouddrove-backup-slow", {
      ...gcLabels,
      "app.kubernetes.io/component": "backup",
    });
    const failed = await cli(["--yes", "gc", "--job-timeout", "1s"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("registry-clouddrove-backup-slow");
    expect(failed.stderr).not.toContain("READ-ONLY");
    const configMap = sbx.sandbox.store.get("ConfigMap", NS, names.configMap);
    expect(configMap?.data?.["config.yml"]).toMatch(/readonly:\s+enabled: false/);
    await readyRegistryPods(sbx.sandbox);
    await pushRandomImage(lb, "app/recovered", "v1", { layers: 1, layerSize: 512 });
    const status = await cli(["-o", "json", "status"]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(json<{ warnings: string[] }>(status.stdout).warnings)).not.toContain("read-only");
  }, 600_000);

  it("without a terminal and without --yes: exit 2 naming --yes, nothing changed", async () => {
    const run = await cli(["gc"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--yes");
    const configMap = sbx.sandbox.store.get("ConfigMap", NS, names.configMap);
    expect(configMap?.data?.["config.yml"]).toMatch(/readonly:\s+enabled: false/);
  });

  it("refuses with exit 2 naming the holder while another operator holds the lock", async () => {
    const lease = heldLease(
      { who: "alice@laptop", pid: 4242, command: "backup now", identity: "alice@laptop/4242/abcd" },
      NS,
      new Date(),
    );
    sbx.sandbox.store.create(lease as never);
    try {
      const run = await cli(["--yes", "gc"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("alice@laptop (pid 4242) running `clouddrove backup now`");
      const configMap = sbx.sandbox.store.get("ConfigMap", NS, names.configMap);
      expect(configMap?.data?.["config.yml"]).toMatch(/readonly:\s+enabled: false/);
    } finally {
      sbx.sandbox.store.delete("Lease", NS, lease.metadata?.name as string);
    }
  }, 120_000);
});
