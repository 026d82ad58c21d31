/**
 * src/adapters/port-forward.ts: a local port forwarded over the WebSocket channel protocol to a
 * registry pod of the sandbox, which runs the real docker-registry: requests pass both ways, several
 * connections at once, and a refused forward is reported, not hung on.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import type { Kube } from "../../src/adapters/kube.js";
import { openPortForward } from "../../src/adapters/port-forward.js";
import {
  applyAll,
  connect,
  NAMESPACE,
  PASSWORD,
  readyRegistryPods,
  renderedRegistry,
  USER,
} from "./sandbox-runtime-support.js";

let sandbox: Sandbox;
let kube: Kube;
let pod: string;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: mkdtempSync(join(tmpdir(), "clouddrove-pf-")), speed: 200 });
  kube = await connect(sandbox);
  await applyAll(kube, await renderedRegistry());
  pod = (await readyRegistryPods(sandbox))[0]?.metadata.name as string;
}, 120_000);
afterAll(async () => {
  kube?.http.close();
  await sandbox?.stop();
});

const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

describe("openPortForward", () => {
  it("reaches the registry in the pod: GET / and an authenticated /v2/, over several connections at once", async () => {
    const forward = await openPortForward(kube, NAMESPACE, pod, 5000);
    try {
      const base = `http://127.0.0.1:${forward.localPort}`;
      const answers = await Promise.all([
        fetch(`${base}/`),
        fetch(`${base}/v2/`, { headers: { Authorization: basic } }),
        fetch(`${base}/v2/`),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401]);
      expect(answers[1]?.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      expect(forward.errors()).toEqual([]);
    } finally {
      await forward.close();
    }
  });

  it("reports a forward the API server refuses (no such pod) and ends the local connection", async () => {
    const forward = await openPortForward(kube, NAMESPACE, "no-such-pod", 5000);
    try {
      await expect(fetch(`http://127.0.0.1:${forward.localPort}/`)).rejects.toThrow();
      expect(forward.errors().join("\n")).toMatch(/HTTP 404/);
    } finally {
      await forward.close();
    }
  });
});
