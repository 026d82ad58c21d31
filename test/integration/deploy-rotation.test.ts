/**
 * `deploy --rotate-credentials` on the sandbox with the real registry binary in every replica: while it
 * runs, the test keeps logging in to every ready replica (straight to its process) with what the pull
 * Secret holds at that moment — never a 401 — and at the end only the new password works. A rotation that
 * stopped half-way is finished by the next deploy with the password it started with.
 */
import { describe, expect, it } from "vitest";
import { requestTrusting } from "../support/request-trusting.js";
import { NAMESPACE, PASSWORD, useDeployedHarness } from "./upgrade-harness.js";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as the store holds them
type Any = any;

const NEW_PASSWORD = "a-new-password-for-the-registry";
const { harness: h, store } = useDeployedHarness("each");

const isReady = (pod: Any) =>
  !pod.metadata.deletionTimestamp &&
  (pod.status?.conditions ?? []).some((c: Any) => c.type === "Ready" && c.status === "True");

/** The user and password the pull Secret holds now. */
function pullCredentials(): { username: string; password: string } {
  const secret = store().get("Secret", NAMESPACE, "registry-clouddrove-pull") as Any;
  const config = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString("utf8"));
  return Object.values(config.auths)[0] as { username: string; password: string };
}

/** The registry's private CA (the public copy deploy keeps in a ConfigMap). */
const registryCa = () =>
  (store().get("ConfigMap", NAMESPACE, "registry-clouddrove-ca") as Any).data["ca.crt"] as string;

/** GET /v2/ on every ready replica's own process with `login`; the statuses by pod. */
async function loginEverywhere(login: {
  username: string;
  password: string;
}): Promise<Array<[string, number]>> {
  const runtime = h().sbx.sandbox.runtime;
  if (!runtime) throw new Error("the sandbox runs no registry processes");
  const answers = await Promise.all(
    h()
      .registryPods()
      .filter(isReady)
      .map(async (pod: Any): Promise<[string, number] | undefined> => {
        const port = runtime.processes.hostPort(NAMESPACE, pod.metadata.name, 5000);
        if (port === undefined) return undefined;
        const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
        // As a client does: HTTPS, trusting the registry's private CA, checking the Service's name.
        const response = await requestTrusting({
          ca: registryCa(),
          servername: `registry-clouddrove.${NAMESPACE}.svc`,
        })(`https://127.0.0.1:${port}/v2/`, { headers: { Authorization: `Basic ${auth}` } }).catch(
          () => undefined,
        );
        return response ? [pod.metadata.name, response.status] : undefined;
      }),
  );
  return answers.filter((a): a is [string, number] => a !== undefined);
}

/** Logs in with the pull Secret's credentials, again and again, until stopped. */
function keepLoggingIn() {
  let running = true;
  const seen = { accepted: 0, refused: [] as string[] };
  const loop = (async () => {
    while (running) {
      const login = pullCredentials();
      for (const [pod, status] of await loginEverywhere(login)) {
        if (status === 200) seen.accepted++;
        else seen.refused.push(`${pod}: ${status} for ${login.username}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

const rotate = (options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}) =>
  h().deploy(["--rotate-credentials"], {
    env: { CLOUDDROVE_REGISTRY_PASSWORD: NEW_PASSWORD, ...options.env },
    signal: options.signal,
  });

describe("deploy --rotate-credentials", () => {
  it("every ready replica accepts the pull Secret's credentials at every moment; then only the new password", async () => {
    expect(pullCredentials()).toEqual({
      username: "clouddrove",
      password: PASSWORD,
      auth: expect.any(String),
    });
    const logins = keepLoggingIn();
    const run = await rotate();
    const seen = await logins.stop();
    expect(run.code, run.stderr).toBe(0);
    expect(seen.refused).toEqual([]);
    expect(seen.accepted).toBeGreaterThan(30);
    expect(pullCredentials()).toMatchObject({ username: "clouddrove", password: NEW_PASSWORD });
    const oldOnes = await loginEverywhere({ username: "clouddrove", password: PASSWORD });
    const newOnes = await loginEverywhere({ username: "clouddrove", password: NEW_PASSWORD });
    const temporary = await loginEverywhere({ username: "clouddrove-rotating", password: NEW_PASSWORD });
    expect(oldOnes.map(([, s]) => s)).toEqual([401, 401, 401]);
    expect(newOnes.map(([, s]) => s)).toEqual([200, 200, 200]);
    expect(temporary.map(([, s]) => s)).toEqual([401, 401, 401]);
    expect(store().get("Secret", NAMESPACE, "registry-clouddrove-rotation")).toBeUndefined();
    expect(run.stderr).toContain("Password rotation, phase 5/5: remove-temporary");
  });

  it("stopped half-way (Ctrl-C), it is finished by the next deploy with the password it started with", async () => {
    const controller = new AbortController();
    const unsubscribe = store().subscribe("Secret", (event: Any) => {
      const phase = event.object.metadata.name === "registry-clouddrove-rotation" && event.object.data?.phase;
      if (phase && Buffer.from(phase, "base64").toString() === "new-password") {
        setTimeout(() => controller.abort(), 200);
      }
    });
    const logins = keepLoggingIn();
    const stopped = await rotate({ signal: controller.signal });
    unsubscribe();
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(store().get("Secret", NAMESPACE, "registry-clouddrove-rotation")).toBeDefined();
    // A re-run with --rotate-credentials and another password finishes the first rotation, not a second.
    const finished = await rotate({ env: { CLOUDDROVE_REGISTRY_PASSWORD: "yet-another-password" } });
    const seen = await logins.stop();
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toContain(
      "A password rotation is under way (phase new-password): finishing it instead of starting another.",
    );
    expect(seen.refused).toEqual([]);
    expect(pullCredentials()).toMatchObject({ username: "clouddrove", password: NEW_PASSWORD });
    expect(
      (await loginEverywhere({ username: "clouddrove", password: NEW_PASSWORD })).map(([, s]) => s),
    ).toEqual([200, 200, 200]);
    expect(store().get("Secret", NAMESPACE, "registry-clouddrove-rotation")).toBeUndefined();
  });
});
