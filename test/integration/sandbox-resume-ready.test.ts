/**
 * A saved sandbox stands for a cluster that kept running between two commands, so the registry pods it
 * resumes stay Ready, and are not restarted, while their processes start again -- however long that start
 * takes on a busy machine. (On a loaded machine a slow start counted as failed probes: the liveness probe
 * killed the containers, and the `upgrade` that followed refused to drain a registry at 2/3 ready.)
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import { findExecutable, REGISTRY_BINARY } from "../../sandbox/src/runtime/processes.js";
import {
  applyAll,
  connect,
  isReady,
  readyRegistryPods,
  registryPods,
  renderedRegistry,
} from "./sandbox-runtime-support.js";

const SPEED = 300;

/** A docker-registry on PATH that takes `seconds` before it starts the real one. */
function slowRegistryOnPath(seconds: number): string {
  const real = findExecutable(REGISTRY_BINARY);
  if (!real) throw new Error("docker-registry is not installed (scripts/setup.sh installs it)");
  const dir = mkdtempSync(join(tmpdir(), "clouddrove-slow-registry-"));
  const wrapper = join(dir, REGISTRY_BINARY);
  writeFileSync(wrapper, `#!/bin/sh\nsleep ${seconds}\nexec ${real} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return `${dir}:${process.env.PATH ?? ""}`;
}

describe("a resumed sandbox", () => {
  let stateDir: string;
  let sandbox: Sandbox | undefined;
  const path = process.env.PATH;

  afterAll(async () => {
    process.env.PATH = path;
    await sandbox?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("keeps its registry pods Ready while their processes are slow to start again", async () => {
    stateDir = await mkdtemp(join(tmpdir(), "clouddrove-sandbox-resume-"));
    sandbox = await startSandbox({ stateDir, speed: SPEED });
    await applyAll(await connect(sandbox), await renderedRegistry());
    await readyRegistryPods(sandbox);
    await sandbox.stop();
    sandbox = undefined;

    // 1.5 s real is 450 simulated seconds at this speed: many readiness periods (30 s) pass meanwhile.
    process.env.PATH = slowRegistryOnPath(1.5);
    const unready = new Set<string>();
    sandbox = await startSandbox({ stateDir, speed: SPEED });
    const watch = setInterval(() => {
      for (const pod of registryPods(sandbox as Sandbox)) if (!isReady(pod)) unready.add(pod.metadata.name);
    }, 10);
    try {
      expect(registryPods(sandbox).filter(isReady)).toHaveLength(3);
      // Well past the slow start: the processes now answer, and no pod was unready at any time.
      await new Promise((resolve) => setTimeout(resolve, 2500));
    } finally {
      clearInterval(watch);
    }
    expect([...unready]).toEqual([]);
    expect(
      registryPods(sandbox).every(
        (pod) => sandbox?.runtime?.processes.describe(pod.metadata.namespace, pod.metadata.name)[0]?.pid,
      ),
    ).toBe(true);
    expect(sandbox.controllers?.errors).toEqual([]);
  });
});
