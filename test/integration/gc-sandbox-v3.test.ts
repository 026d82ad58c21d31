/**
 * `clouddrove gc` on a registry deployed at Distribution 3.0.0 (registry:3.0.0, config at
 * /etc/distribution/config.yml): the sandbox runs both the replicas and the gc Job's script with
 * Distribution v3.0.0's binary (scripts/components.sh builds it). A deleted image's unique blobs are
 * freed, every other image still pulls with the same digests, and pushes work afterwards.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import {
  deleteManifest,
  getBlob,
  getManifest,
  pushRandomImage,
  sha256Digest,
} from "../../src/adapters/registry.js";
import type { GcReport } from "../../src/core/gc/report.js";
import { names } from "../../src/core/render/names.js";
import { distributionBinary } from "../support/registry-process.js";
import { cleanEnv, runCli } from "../support/run-cli.js";
import {
  loadBalancerUrl,
  PASSWORD,
  readyRegistryPods,
  SANDBOX_DEPLOY,
  withCredentials,
} from "./sandbox-runtime-support.js";

let work: string;
let sbx: TestSandbox;
const cli = (args: string[]) =>
  runCli(["--kubeconfig", sbx.kubeconfigPath, ...args], {
    env: cleanEnv({ CI: "true", CLOUDDROVE_REGISTRY_PASSWORD: PASSWORD }),
  });

beforeAll(async () => {
  // Fails, naming scripts/components.sh, when the v3 binary is not built.
  distributionBinary();
  work = await mkdtemp(join(tmpdir(), "clouddrove-gc-v3-"));
  sbx = await startTestSandbox({ controllers: true, speed: 200, stateDir: join(work, "state") });
}, 120_000);

afterAll(async () => {
  await sbx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it("frees a deleted image's blobs with Distribution 3.0.0 and keeps the others", async () => {
  const deploy = await cli([...SANDBOX_DEPLOY, "--registry-version", "3.0.0"]);
  expect(deploy.stderr).not.toContain("Error");
  expect(deploy.code).toBe(0);
  const deployment = sbx.sandbox.store.get("Deployment", "clouddrove", names.deployment);
  expect(deployment?.spec?.template?.spec?.containers?.[0]?.image).toBe("registry:3.0.0");
  await readyRegistryPods(sbx.sandbox);
  const lb = withCredentials(loadBalancerUrl(sbx.sandbox) as string);

  const gone = await pushRandomImage(lb, "v3/gone", "v1", { layers: 2, layerSize: 2048 });
  const kept = await pushRandomImage(lb, "v3/kept", "v1", { layers: 1, layerSize: 4096 });
  await deleteManifest(lb, "v3/gone", gone.manifestDigest);

  const run = await cli(["-o", "json", "--yes", "gc"]);
  expect(run.stderr).not.toContain("Error");
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout) as GcReport;
  // The manifest, the config blob and the two layers of the deleted image.
  expect(report).toMatchObject({ ok: true, image: "registry:3.0.0", freed: { blobs: 4 }, remaining: 0 });
  expect(report.freed?.bytes).toBeGreaterThan(2 * 2048);
  for (const proof of report.readOnly) expect(proof.push.status).toBe(405);

  expect((await getManifest(lb, "v3/kept", "v1")).digest).toBe(kept.manifestDigest);
  for (const blob of kept.blobDigests) expect(sha256Digest(await getBlob(lb, "v3/kept", blob))).toBe(blob);
  await pushRandomImage(lb, "v3/after", "v1", { layers: 1, layerSize: 512 });
}, 600_000);
