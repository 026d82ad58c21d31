/**
 * The commands an operator would type to do the same maintenance by hand, in order, with the checks
 * between them. `upgrade --dry-run` prints them for the node at hand (with the real names, indexes and
 * flags); docs/upgrade.md is the same runbook in general form.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import { majorOf, withTag } from "../registry/image.js";
import { REGISTRY_V3, registryContainer } from "../registry/v3.js";
import { names } from "../render/names.js";
import { servedScheme } from "../tls/status.js";
import type { UpgradeTargets } from "./targets.js";

export interface RunbookInput {
  node: string;
  namespace: string;
  targets: UpgradeTargets;
  drain: { force: boolean; deleteEmptyDirData: boolean; gracePeriodSeconds?: number; timeoutSeconds: number };
  nodegroup?: string;
  cluster?: string;
  region?: string;
  /** The live registry Deployment (for the exact JSON patch of a 3.x bump). */
  deployment?: V1Deployment;
  backupCronJob?: string;
  replicas: number;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/** JSON-patch operations that move the live Deployment to 3.x (indexes from the live object). */
/** One RFC 6902 operation (what `kubectl patch --type json` takes). */
interface JsonPatchOperation {
  op: "add" | "replace";
  path: string;
  value: unknown;
}

export function v3JsonPatch(deployment: V1Deployment, version: string): JsonPatchOperation[] {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const container = registryContainer(deployment) ?? { name: "registry" };
  const c = Math.max(0, containers.indexOf(container));
  const base = `/spec/template/spec/containers/${c}`;
  const volume = (deployment.spec?.template?.spec?.volumes ?? []).find(
    (v) => v.configMap?.name === names.configMap,
  );
  const mounts = container.volumeMounts ?? [];
  const m = mounts.findIndex((mount) => mount.name === volume?.name);
  const ops: JsonPatchOperation[] = [
    { op: "replace", path: `${base}/image`, value: withTag(container.image ?? "registry", version) },
    {
      op: container.args ? "replace" : "add",
      path: `${base}/args`,
      value: ["serve", REGISTRY_V3.configPath],
    },
  ];
  if (m >= 0)
    ops.push({ op: "replace", path: `${base}/volumeMounts/${m}/mountPath`, value: REGISTRY_V3.configDir });
  const env = container.env ?? [];
  if (!env.some((e) => e.name === REGISTRY_V3.tracingEnv.name)) {
    ops.push(
      env.length > 0
        ? { op: "add", path: `${base}/env/-`, value: { ...REGISTRY_V3.tracingEnv } }
        : { op: "add", path: `${base}/env`, value: [{ ...REGISTRY_V3.tracingEnv }] },
    );
  }
  return ops;
}

export function runbook(input: RunbookInput): string[] {
  const ns = input.namespace;
  const node = input.node;
  const k = `kubectl -n ${ns}`;
  const lines: string[] = [
    "# 1. Preflight: every node Ready, the registry fully ready, a disruption allowed, what runs on the node",
    "kubectl get nodes -o wide",
    `${k} get deployment ${names.deployment}            # READY ${input.replicas}/${input.replicas}`,
    "kubectl get pdb -A                                 # ALLOWED DISRUPTIONS > 0 for every pod on the node",
    `kubectl get pods -A -o wide --field-selector spec.nodeName=${node}`,
  ];
  const { targets } = input;
  if (targets.registryVersion && (majorOf(targets.registryVersion) ?? 2) >= 3 && input.backupCronJob) {
    const job = "registry-clouddrove-backup-before-upgrade";
    lines.push(
      "# Forward-only upgrade: back up first",
      `${k} create job --from=cronjob/${input.backupCronJob} ${job}`,
      `${k} wait --for=condition=complete job/${job} --timeout=1h`,
    );
  }
  const drainFlags = [
    "--ignore-daemonsets",
    input.drain.force ? "--force" : "",
    input.drain.deleteEmptyDirData ? "--delete-emptydir-data" : "",
    input.drain.gracePeriodSeconds !== undefined ? `--grace-period=${input.drain.gracePeriodSeconds}` : "",
    `--timeout=${input.drain.timeoutSeconds}s`,
  ].filter(Boolean);
  lines.push(
    "# 2. Cordon: no new pods on the node",
    `kubectl cordon ${node}`,
    "# 3. Drain through the Eviction API (respects PodDisruptionBudgets; DaemonSet and mirror pods stay)",
    `kubectl drain ${node} ${drainFlags.join(" ")}`,
    "# 4. The bump",
  );
  let uncordon = node;
  if (targets.registryVersion) {
    const version = targets.registryVersion;
    if ((majorOf(version) ?? 2) >= 3) {
      lines.push(
        `# registry ${version}: config read from ${REGISTRY_V3.configPath}, keys 3.x removed dropped, tracing off`,
        `${k} edit configmap ${names.configMap}   # remove reporting, compatibility, storage.swift/oss, loglevel`,
      );
    }
    const patch = input.deployment
      ? JSON.stringify(
          (majorOf(version) ?? 2) >= 3
            ? v3JsonPatch(input.deployment, version)
            : [
                {
                  op: "replace",
                  path: "/spec/template/spec/containers/0/image",
                  value: `registry:${version}`,
                },
              ],
        )
      : `'[...]'`;
    lines.push(`${k} patch deployment ${names.deployment} --type=json -p ${quote(patch)}`);
  }
  if (targets.kubernetesVersion) {
    const region = input.region ? ` --region ${input.region}` : "";
    const cluster = input.cluster ?? "CLUSTER";
    const nodegroup = input.nodegroup ?? "NODEGROUP";
    lines.push(
      `aws eks update-nodegroup-version --cluster-name ${cluster} --nodegroup-name ${nodegroup} --kubernetes-version ${targets.kubernetesVersion}${region}`,
      `# wait until the update (its id is in the answer) is Successful:`,
      `aws eks describe-update --name ${cluster} --nodegroup-name ${nodegroup} --update-id UPDATE_ID${region} --query update.status`,
      `# the nodegroup's new node replaces ${node}; find it with:`,
      `kubectl get nodes -l eks.amazonaws.com/nodegroup=${input.nodegroup ?? "NODEGROUP"}`,
    );
    uncordon = "NEW_NODE";
  }
  if (targets.upgradeCommand) lines.push(`NODE=${node} sh -c ${quote(targets.upgradeCommand)}`);
  lines.push(
    "# 5. Uncordon",
    `kubectl uncordon ${uncordon}`,
    "# 6. Health: nodes Ready and schedulable, rollout complete, one replica per node and zone, budget and endpoints",
    `${k} rollout status deployment/${names.deployment} --timeout=10m`,
    "kubectl get nodes -L topology.kubernetes.io/zone   # all Ready, none SchedulingDisabled, VERSION as expected",
    `${k} get pods -l ${names.registryPodSelector} -o wide`,
    `${k} get pdb ${names.podDisruptionBudget}          # ALLOWED DISRUPTIONS 1`,
    `${k} get endpoints ${names.service}                # ${input.replicas} addresses`,
    ...registryCheck(k, ns, input.deployment),
  );
  return lines;
}

/**
 * The last check, through a port-forward: `/` and `/v2/` with the credentials, as the registry serves them.
 * Over TLS (the private CA), curl must trust the CA and ask for a name the certificate carries (the
 * Service's cluster name, connected to the forwarded port); plain HTTP to a TLS registry only gets 400.
 */
function registryCheck(k: string, ns: string, deployment: V1Deployment | undefined): string[] {
  const forward = `${k} port-forward deployment/${names.deployment} 5000:5000 &`;
  if (servedScheme(deployment) !== "HTTPS") {
    return [
      forward,
      "curl -fsS http://127.0.0.1:5000/ && curl -fsS -u USER http://127.0.0.1:5000/v2/   # 200 and 200",
    ];
  }
  const host = `${names.service}.${ns}.svc`;
  const curl = `curl -fsS --cacert registry-ca.crt --connect-to ${host}:5000:127.0.0.1:5000`;
  return [
    `${k} get configmap ${names.caConfigMap} -o jsonpath='{.data.${names.secretKeys.caCertificate.replace(".", "\\.")}}' > registry-ca.crt`,
    forward,
    `${curl} https://${host}:5000/ && ${curl} -u USER https://${host}:5000/v2/   # 200 and 200`,
  ];
}
