/** How the registry is reached: the load balancer Service and the NetworkPolicies around the pods. */
import type { Config } from "../../config/schema.js";
import { at, listAt } from "./paths.js";
import type { KubeObject } from "./types.js";

const AWS = "service.beta.kubernetes.io";

/** The EKS Pod Identity agent answers credential requests on these node-local addresses, TCP 80. */
export const POD_IDENTITY_AGENT_CIDRS = ["169.254.170.23/32", "fd00:ec2::23/128"] as const;

export function applyService(service: KubeObject, config: Config): void {
  const { network } = config;
  const annotations = { ...service.metadata.annotations };
  if (network.loadBalancer === "nlb") {
    annotations[`${AWS}/aws-load-balancer-type`] = "nlb";
    delete annotations[`${AWS}/aws-load-balancer-connection-idle-timeout`];
  } else {
    // Without the type annotation AWS builds a classic ELB, whose 60 s idle timeout cuts large pushes.
    delete annotations[`${AWS}/aws-load-balancer-type`];
    annotations[`${AWS}/aws-load-balancer-connection-idle-timeout`] = "3600";
  }
  if (network.scheme === "internal") {
    annotations[`${AWS}/aws-load-balancer-internal`] = "true";
  } else {
    delete annotations[`${AWS}/aws-load-balancer-internal`];
  }
  annotations[`${AWS}/aws-load-balancer-scheme`] = network.scheme;
  service.metadata.annotations = annotations;

  const spec = at(service, "spec");
  if (network.allowedCidrs.length > 0) spec.loadBalancerSourceRanges = [...network.allowedCidrs];
  else delete spec.loadBalancerSourceRanges;
}

/** Registry ingress: pods of the namespace (in the template) plus one ipBlock per allowed CIDR. */
export function applyRegistryIngress(policy: KubeObject, config: Config): void {
  const [rule] = listAt(at(policy, "spec"), "ingress");
  if (!rule) throw new TypeError("registry ingress policy template has no rule");
  const from = listAt(rule, "from").filter((peer) => !("ipBlock" in peer));
  for (const cidr of config.network.allowedCidrs) from.push({ ipBlock: { cidr } });
  rule.from = from;
}

/** Backup egress: DNS and HTTPS (in the template), plus the Pod Identity agent when that is the way in. */
export function applyBackupEgress(policy: KubeObject, config: Config): void {
  if (config.backup.credentials !== "pod-identity") return;
  listAt(at(policy, "spec"), "egress").push({
    to: POD_IDENTITY_AGENT_CIDRS.map((cidr) => ({ ipBlock: { cidr } })),
    ports: [{ protocol: "TCP", port: 80 }],
  });
}
