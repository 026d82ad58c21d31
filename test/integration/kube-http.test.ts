/**
 * src/adapters/kube-http.ts against the sandbox's API server (real HTTPS, its own CA, a bearer token):
 * plain requests, a watch streamed line by line, and credentials from an exec plugin — refreshed once on
 * a 401, as client-go does.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { type ClusterAccess, resolveKubeconfig } from "../../src/adapters/kube-config.js";
import { KubeHttp } from "../../src/adapters/kube-http.js";
import { CredentialsError } from "../../src/errors.js";

let sandbox: TestSandbox;
let access: ClusterAccess;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  access = resolveKubeconfig({ path: sandbox.kubeconfigPath, env: {} });
});
afterAll(() => sandbox.stop());

/** The sandbox's kubeconfig with its token taken away and an exec plugin (a shell script) in its place. */
function withExecPlugin(script: string): ClusterAccess {
  const plugin = join(sandbox.dir, `plugin-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(plugin, `#!/bin/sh\n${script}\n`);
  chmodSync(plugin, 0o755);
  const document = parse(readFileSync(sandbox.kubeconfigPath, "utf8"));
  for (const user of document.users)
    user.user = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } };
  return resolveKubeconfig({ text: stringify(document), env: {} });
}

const credential = (token: string) =>
  `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "${token}"`;

describe("KubeHttp", () => {
  it("sends requests with the kubeconfig's CA and token, and returns the status and body", async () => {
    const client = new KubeHttp(access, {});
    const nodes = await client.request({ method: "GET", path: "/api/v1/nodes" });
    expect(nodes.status).toBe(200);
    expect(JSON.parse(nodes.text).kind).toBe("NodeList");
    const missing = await client.request({ method: "GET", path: "/api/v1/namespaces/default/pods/nope" });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).reason).toBe("NotFound");
    const refused = await new KubeHttp({ ...access, token: "wrong" }, {}).request({
      method: "GET",
      path: "/api/v1/nodes",
    });
    expect(refused.status).toBe(401);
    client.close();
  });

  it("refuses a server whose certificate its CA did not sign", async () => {
    const client = new KubeHttp({ ...access, ca: undefined }, {});
    await expect(client.request({ method: "GET", path: "/version" })).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/),
    });
  });

  it("streams a watch line by line as events happen", async () => {
    const client = new KubeHttp(access, {});
    const create = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "default" },
    };
    const lines: string[] = [];
    const controller = new AbortController();
    const watching = client
      .stream(
        {
          method: "GET",
          path: "/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dwatched",
          signal: controller.signal,
        },
        (line) => {
          lines.push(line);
          controller.abort();
        },
      )
      .catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const created = await client.request({
      method: "POST",
      path: "/api/v1/namespaces/default/configmaps",
      body: create,
    });
    expect(created.status).toBe(201);
    expect(((await watching) as Error).name).toBe("AbortError");
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      type: "ADDED",
      object: { metadata: { name: "watched" } },
    });
    client.close();
  });

  it("takes the token from an exec plugin, with KUBERNETES_EXEC_INFO, and runs it once while the token lasts", async () => {
    const counter = join(sandbox.dir, "runs");
    writeFileSync(counter, "");
    const client = new KubeHttp(
      withExecPlugin(
        `echo run >> ${counter}; case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) exit 3;; esac; ${credential(sandbox.sandbox.token)}`,
      ),
      { PATH: process.env.PATH },
    );
    expect((await client.request({ method: "GET", path: "/api/v1/nodes" })).status).toBe(200);
    expect((await client.request({ method: "GET", path: "/api/v1/nodes" })).status).toBe(200);
    expect(readFileSync(counter, "utf8").trim().split("\n")).toHaveLength(1);
    client.close();
  });

  it("asks the exec plugin again after a 401 (an expired token), once", async () => {
    const counter = join(sandbox.dir, "runs-401");
    writeFileSync(counter, "");
    // First run: a stale token; every later run: the valid one.
    const client = new KubeHttp(
      withExecPlugin(
        `if [ -s ${counter} ]; then T=${sandbox.sandbox.token}; else T=stale; fi; echo run >> ${counter}; ${credential("$T")}`,
      ),
      { PATH: process.env.PATH },
    );
    expect((await client.request({ method: "GET", path: "/api/v1/nodes" })).status).toBe(200);
    expect(readFileSync(counter, "utf8").trim().split("\n")).toHaveLength(2);
    client.close();
  });

  it("says which plugin failed and how to check it", async () => {
    const failing = new KubeHttp(withExecPlugin("echo 'Unable to locate credentials' >&2; exit 255"), {});
    const error = await failing.request({ method: "GET", path: "/version" }).catch((e) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error.message).toContain("Unable to locate credentials");
    const absent = new KubeHttp(
      { ...access, token: undefined, exec: { ...withExecPlugin("true").exec!, command: "/nonexistent/aws" } },
      {},
    );
    const missing = await absent.request({ method: "GET", path: "/version" }).catch((e) => e);
    expect(missing.message).toContain("which is not installed");
  });
});
