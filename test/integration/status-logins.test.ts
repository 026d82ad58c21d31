/**
 * `status` logs in: through a port-forward to every ready replica, `/v2/` with the pull Secret's
 * credentials. A registry that answers everything else but refuses those credentials is unhealthy.
 */
import { describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../support/run-cli.js";
import { NAMESPACE, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const { harness: h, store } = useDeployedHarness("all");
const status = () =>
  runCli(["--kubeconfig", h().sbx.kubeconfigPath, "-o", "json", "status"], {
    env: cleanEnv({ CI: "true" }),
    cwd: h().sbx.dir,
  });

describe("status", () => {
  it("is healthy while every replica accepts the pull Secret's credentials, unhealthy when none does", async () => {
    const healthy = await status();
    expect(healthy.code, healthy.stdout).toBe(0);

    // Every authenticated request now fails: the pull Secret's password is not the registry's.
    const pull = structuredClone(store().get("Secret", NAMESPACE, "registry-clouddrove-pull")) as Any;
    const config = JSON.parse(Buffer.from(pull.data[".dockerconfigjson"], "base64").toString("utf8"));
    for (const entry of Object.values(config.auths) as Any[]) {
      entry.password = "not-the-password";
      entry.auth = Buffer.from(`${entry.username}:not-the-password`).toString("base64");
    }
    pull.data[".dockerconfigjson"] = Buffer.from(JSON.stringify(config)).toString("base64");
    store().update(pull);

    const refused = await status();
    expect(refused.code).toBe(1);
    const report = JSON.parse(refused.stdout);
    expect(report.healthy).toBe(false);
    const logins = (report.problems as string[]).filter((p) =>
      p.includes("refuses the pull Secret's credentials"),
    );
    expect(logins).toHaveLength(3);
    expect(logins[0]).toMatch(
      /^registry-clouddrove-\S+ refuses the pull Secret's credentials \(user clouddrove\) on \/v2\/: 401$/,
    );
    expect(refused.stdout).not.toContain("not-the-password");
  });
});
