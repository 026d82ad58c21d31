/**
 * Step: prove every replica serves: through a port-forward to each ready registry pod (the route that
 * works whatever the NetworkPolicy and load balancer scheme allow), `GET /` is 200 without credentials and
 * `/v2/` is 200 with the deployed credentials — over HTTPS trusting the private CA when the registry
 * serves TLS.
 */
import type { ListrTask } from "listr2";
import { Kinds } from "../../adapters/kube-kinds.js";
import { openPortForward } from "../../adapters/port-forward.js";
import { checkAuth, ping } from "../../adapters/registry.js";
import { isPodReady } from "../../core/health/pod-ready.js";
import { names } from "../../core/render/names.js";
import { servedTrust } from "../../core/tls/served-secret.js";
import { OperationError } from "../../errors.js";
import { replicaEndpoint } from "../replica-endpoint.js";
import type { DeployContext } from "./context.js";

/** What a replica is checked with: the private CA, the served Secret's issuer, or nothing (plain HTTP). */
function replicaTrust(ctx: Pick<DeployContext, "tls" | "served" | "config">) {
  if (ctx.tls) return ctx.tls.prepared.tls.ca.certificate;
  if (ctx.served) return servedTrust(ctx.served.certificate, ctx.served.privateCa, ctx.config.tls.hostname);
  return undefined;
}

export async function smokeTestReplica(
  ctx: Pick<DeployContext, "kube" | "credentials" | "tls" | "served" | "config">,
  namespace: string,
  pod: string,
): Promise<{ root: number; authenticated: number }> {
  const forward = await openPortForward(ctx.kube, namespace, pod, names.ports.registry);
  try {
    const endpoint = {
      ...replicaEndpoint(forward.localPort, namespace, replicaTrust(ctx)),
      username: ctx.credentials.username,
      password: ctx.credentials.password,
      timeoutMs: 15_000,
    };
    return { root: await ping(endpoint), authenticated: await checkAuth(endpoint) };
  } catch (error) {
    // No HTTP answer at all: what the kubelet said about the forward is the useful part.
    const said = forward.errors();
    if (said.length === 0) throw error;
    throw new OperationError(`The port-forward to ${pod} failed: ${said.join("; ")}`, {
      cause: error,
      hint: "Check the replica (`clouddrove status`, `kubectl logs`), or skip this check with --no-smoke-test.",
    });
  } finally {
    await forward.close();
  }
}

export function smokeTestStep(): ListrTask<DeployContext> {
  return {
    title: "Smoke test: every replica answers and accepts the credentials",
    skip: (ctx) => (!ctx.options.smokeTest ? "smoke test skipped (--no-smoke-test)" : false),
    task: async (ctx, task) => {
      const namespace = ctx.config.namespace;
      const pods = (
        await ctx.kube.list(Kinds.Pod, { namespace, labelSelector: names.registryPodSelector })
      ).filter(isPodReady);
      ctx.stats.lists++;
      task.output = `port-forwards to ${pods.length} replica(s), port ${names.ports.registry}`;
      // The replicas are checked at once: each check is mostly waiting (a port-forward, two round trips,
      // the registry's bcrypt check of the password).
      const results = await Promise.all(
        pods.map(async (pod) => {
          const name = pod.metadata?.name ?? "";
          return { pod: name, result: await smokeTestReplica(ctx, namespace, name) };
        }),
      );
      const failures: string[] = [];
      for (const { pod, result } of results) {
        ctx.smoke = result;
        if (result.root !== 200 || result.authenticated !== 200) {
          failures.push(`${pod}: GET / ${result.root}, /v2/ with credentials ${result.authenticated}`);
        }
      }
      if (failures.length > 0) {
        throw new OperationError("The registry does not serve as deployed.", {
          details: failures,
          hint: failures.some((f) => f.endsWith(" 401"))
            ? "A replica may still run with an old htpasswd file: `kubectl rollout restart deployment/registry-clouddrove -n NAMESPACE`."
            : "Check `clouddrove status` and the registry's logs (`kubectl logs deploy/registry-clouddrove`).",
        });
      }
      task.title = `Smoke test: ${pods.length} replica(s) answer / (200) and /v2/ with the credentials (200)`;
    },
  };
}
