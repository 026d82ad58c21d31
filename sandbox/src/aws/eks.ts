/**
 * EKS (REST-JSON): the cluster, its addons and the Kubernetes versions offered, its managed node groups
 * (one per zone, read from the nodes' labels), and the node group version update, which the sandbox
 * performs as EKS does (a replacement node, then the old one drained and removed: upgradeNodegroup).
 */
import type { ServerResponse } from "node:http";
import { minorOf } from "../controllers/nodes.js";
import { checkNodegroupUpgrade, upgradeNodegroup } from "../controllers/operations.js";
import { CLUSTER_INFO, DEFAULTS } from "../controllers/seed.js";
import { SandboxError } from "../errors.js";
import type { KubeObject } from "../types.js";
import type { AwsContext, RestRequest } from "./context.js";
import { oidcIssuer } from "./iam.js";
import { AwsServiceError, epochSeconds, sendJsonResult } from "./protocol.js";
import {
  type ClusterShape,
  clusterSecurityGroupId,
  type NodegroupUpdateRecord,
  nextId,
  SANDBOX_ACCOUNT,
  subnetsOf,
  vpcId,
} from "./state.js";

const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";

/** The addons clouddrove's ClusterConfig installs, with the configuration it gives them. */
const ADDONS: Record<string, { version: string; configurationValues?: string }> = {
  "vpc-cni": { version: "v1.19.6-eksbuild.1", configurationValues: '{"enableNetworkPolicy":"true"}' },
  "kube-proxy": { version: "v1.33.0-eksbuild.2" },
  coredns: { version: "v1.11.4-eksbuild.14" },
  "aws-ebs-csi-driver": { version: "v1.45.0-eksbuild.2" },
  "aws-efs-csi-driver": { version: "v2.1.9-eksbuild.1" },
  "snapshot-controller": { version: "v8.2.0-eksbuild.1" },
  "eks-pod-identity-agent": { version: "v1.3.7-eksbuild.2" },
};

function clusterOrThrow(ctx: AwsContext, name: string): ClusterShape {
  const cluster = ctx.cluster();
  if (name !== cluster.name) {
    throw new AwsServiceError("ResourceNotFoundException", `No cluster found for name: ${name}.`, 404);
  }
  return cluster;
}

function nodegroupNodes(ctx: AwsContext, name: string): KubeObject[] {
  return ctx.store
    .list("Node", { labelSelector: `${NODEGROUP_LABEL}=${name}` })
    .filter((n) => !n.metadata.deletionTimestamp);
}

function nodegroupNames(ctx: AwsContext): string[] {
  const names = ctx.store.list("Node").map((n) => n.metadata.labels?.[NODEGROUP_LABEL] as string | undefined);
  return [...new Set(names.filter((n): n is string => Boolean(n)))].sort();
}

function describeNodegroup(ctx: AwsContext, cluster: ClusterShape, name: string) {
  const nodes = nodegroupNodes(ctx, name);
  if (nodes.length === 0) {
    throw new AwsServiceError("ResourceNotFoundException", `No node group found for name: ${name}.`, 404);
  }
  const minors = nodes.map((n) => minorOf(n.status?.nodeInfo?.kubeletVersion) ?? cluster.kubernetesVersion);
  // EKS reports the version the group's launch configuration has: the oldest node's until an update ends.
  const version = minors.sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))[0];
  const updating = ctx.state.updates.some((u) => u.nodegroupName === name && u.status === "InProgress");
  const zones = new Set(nodes.map((n) => n.metadata.labels?.["topology.kubernetes.io/zone"]));
  const created = Math.min(
    ...nodes.map((n) => Date.parse(n.metadata.creationTimestamp ?? "") || ctx.clock.now()),
  );
  return {
    nodegroupName: name,
    nodegroupArn: `arn:aws:eks:${cluster.region}:${SANDBOX_ACCOUNT}:nodegroup/${cluster.name}/${name}/sandbox`,
    clusterName: cluster.name,
    version,
    releaseVersion: `${version}.0-20250715`,
    createdAt: epochSeconds(created),
    modifiedAt: epochSeconds(ctx.clock.now()),
    status: updating ? "UPDATING" : "ACTIVE",
    capacityType: "ON_DEMAND",
    scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 },
    instanceTypes: [nodes[0]?.metadata.labels?.["node.kubernetes.io/instance-type"] ?? "m5.large"],
    subnets: subnetsOf(cluster)
      .filter((s) => s.private && zones.has(s.AvailabilityZone))
      .map((s) => s.SubnetId),
    amiType: "AL2023_x86_64_STANDARD",
    nodeRole: `arn:aws:iam::${SANDBOX_ACCOUNT}:role/eksctl-${cluster.name}-nodegroup-NodeInstanceRole`,
    labels: { "alpha.eksctl.io/nodegroup-name": name },
    health: { issues: [] },
    updateConfig: { maxUnavailable: 1 },
    tags: { "alpha.eksctl.io/cluster-name": cluster.name },
  };
}

function updateView(update: NodegroupUpdateRecord) {
  const params = update.addonName
    ? [{ type: "AddonVersion", value: update.version }]
    : update.nodegroupName
      ? [
          { type: "Version", value: update.version },
          { type: "ReleaseVersion", value: `${update.version}.0-20250715` },
        ]
      : [
          { type: "Version", value: update.version },
          { type: "PlatformVersion", value: "eks.1" },
        ];
  return {
    id: update.id,
    status: update.status,
    type: update.addonName ? "AddonUpdate" : "VersionUpdate",
    params,
    createdAt: epochSeconds(update.createdAt),
    errors: update.errors,
  };
}

/** Starts the update; the sandbox carries it out in the background, as EKS does. */
function updateNodegroupVersion(
  ctx: AwsContext,
  cluster: ClusterShape,
  name: string,
  body: { version?: string },
) {
  describeNodegroup(ctx, cluster, name);
  if (ctx.state.updates.some((u) => u.nodegroupName === name && u.status === "InProgress")) {
    throw new AwsServiceError(
      "ResourceInUseException",
      `Nodegroup ${name} is currently being updated. Please wait for the update to complete.`,
      409,
    );
  }
  const version = body.version ?? cluster.kubernetesVersion;
  try {
    checkNodegroupUpgrade(ctx, name, version);
  } catch (error) {
    if (!(error instanceof SandboxError)) throw error;
    throw new AwsServiceError(
      "InvalidParameterException",
      error.message.replace(/^InvalidParameterException: /, ""),
    );
  }
  const update: NodegroupUpdateRecord = {
    id: nextId(ctx.state, "update").replace(/^update-0/, ""),
    clusterName: cluster.name,
    nodegroupName: name,
    version,
    status: "InProgress",
    createdAt: ctx.clock.now(),
    errors: [],
  };
  ctx.state.updates.push(update);
  upgradeNodegroup(ctx, name, version).then(
    () => {
      update.status = "Successful";
    },
    (error: unknown) => {
      update.status = "Failed";
      const message = error instanceof Error ? error.message : String(error);
      update.errors.push({
        errorCode: /^PodEvictionFailure/.test(message) ? "PodEvictionFailure" : "Unknown",
        errorMessage: message,
        resourceIds: [name],
      });
    },
  );
  return { update: updateView(update) };
}

const MONTH_MS = 30.44 * 86_400_000;

/**
 * The sandbox's EKS calendar, on its own clock, shaped as EKS's: a minor every four months, 14 months of
 * standard support from its release, then 12 of extended support. The sandbox's default cluster version
 * is EKS's default here; the one two minors older leaves standard support within a month (the window in
 * which clouddrove warns), older ones are in extended support.
 */
function versionCalendar(now: number) {
  const [major, minor] = DEFAULTS.kubernetesVersion.split(".").map(Number) as [number, number];
  return [-4, -3, -2, -1, 0, 1].map((offset) => {
    const released = now - (5 - 4 * offset) * MONTH_MS;
    const endOfStandard = released + 14 * MONTH_MS;
    const endOfExtended = endOfStandard + 12 * MONTH_MS;
    const phase =
      now < endOfStandard ? "STANDARD_SUPPORT" : now < endOfExtended ? "EXTENDED_SUPPORT" : "UNSUPPORTED";
    const m = minor + offset;
    return {
      clusterVersion: `${major}.${m}`,
      clusterType: "eks",
      defaultPlatformVersion: "eks.9",
      defaultVersion: offset === 0,
      releaseDate: epochSeconds(released),
      endOfStandardSupportDate: epochSeconds(endOfStandard),
      endOfExtendedSupportDate: epochSeconds(endOfExtended),
      status: phase.toLowerCase().replace("_", "-"),
      versionStatus: phase,
      kubernetesPatchVersion: `${major}.${m}.4`,
    };
  });
}

/** Simulated time an EKS control-plane upgrade takes (EKS: typically 8 to 10 minutes). */
const CONTROL_PLANE_UPGRADE_MS = 8 * 60_000;
/** Simulated time an add-on update takes. */
const ADDON_UPDATE_MS = 60_000;

function startUpdate(
  ctx: AwsContext,
  record: Omit<NodegroupUpdateRecord, "id" | "status" | "createdAt" | "errors">,
): NodegroupUpdateRecord {
  const update: NodegroupUpdateRecord = {
    ...record,
    id: nextId(ctx.state, "update").replace(/^update-0/, ""),
    status: "InProgress",
    createdAt: ctx.clock.now(),
    errors: [],
  };
  ctx.state.updates.push(update);
  return update;
}

/**
 * UpdateClusterVersion, checked as EKS checks it: exactly one minor up, no other update of the control
 * plane in progress, and no kubelet left more than three minors behind the new version (the skew
 * policy). Carried out on the sandbox's clock: the cluster record's version changes when it succeeds,
 * and with it what the API server's /version says.
 */
function updateClusterVersion(ctx: AwsContext, cluster: ClusterShape, body: { version?: string }) {
  const current = cluster.kubernetesVersion;
  const target = String(body.version ?? "");
  const [major, minor] = current.split(".").map(Number) as [number, number];
  if (
    ctx.state.updates.some(
      (u) => u.clusterName === cluster.name && !u.nodegroupName && !u.addonName && u.status === "InProgress",
    )
  ) {
    throw new AwsServiceError(
      "ResourceInUseException",
      `Cluster ${cluster.name} is currently being updated. Please wait for the update to complete.`,
      409,
    );
  }
  if (target !== `${major}.${minor + 1}`) {
    throw new AwsServiceError(
      "InvalidParameterException",
      `Unsupported Kubernetes minor version update from ${current} to ${target}`,
    );
  }
  const oldest = ctx.store
    .list("Node")
    .map((n) => minorOf(n.status?.nodeInfo?.kubeletVersion))
    .filter((m): m is string => m !== undefined)
    .map((m) => Number(m.split(".")[1]))
    .sort((a, b) => a - b)[0];
  if (oldest !== undefined && minor + 1 - oldest > 3) {
    throw new AwsServiceError(
      "InvalidParameterException",
      `Kubelet version of the nodes (1.${oldest}) would be more than 3 minor versions older than the control plane (${target}): update the node groups first`,
    );
  }
  const update = startUpdate(ctx, { clusterName: cluster.name, version: target });
  ctx.clock.after(CONTROL_PLANE_UPGRADE_MS, () => {
    const record = ctx.store.get("ConfigMap", CLUSTER_INFO.namespace, CLUSTER_INFO.name);
    if (record) ctx.store.update({ ...record, data: { ...record.data, kubernetesVersion: target } });
    update.status = "Successful";
  });
  return { update: updateView(update) };
}

/** The add-on versions EKS offers for a Kubernetes minor: kube-proxy follows the minor, the others do not. */
function addonVersionFor(addonName: string, kubernetesVersion: string): string | undefined {
  const addon = ADDONS[addonName];
  if (!addon) return undefined;
  return addonName === "kube-proxy" ? `v${kubernetesVersion}.0-eksbuild.2` : addon.version;
}

function installedAddonVersion(ctx: AwsContext, addonName: string): string | undefined {
  return ctx.state.addonVersions?.[addonName] ?? ADDONS[addonName]?.version;
}

function updateAddon(
  ctx: AwsContext,
  cluster: ClusterShape,
  addonName: string,
  body: { addonVersion?: string },
) {
  if (!ADDONS[addonName]) {
    throw new AwsServiceError(
      "ResourceNotFoundException",
      `No addon: ${addonName} found in cluster: ${cluster.name}`,
      404,
    );
  }
  const version = String(body.addonVersion ?? "");
  const offered = [ADDONS[addonName]?.version, addonVersionFor(addonName, cluster.kubernetesVersion)];
  if (!offered.includes(version)) {
    throw new AwsServiceError(
      "InvalidParameterException",
      `Addon version specified is not supported for cluster version ${cluster.kubernetesVersion}`,
    );
  }
  const update = startUpdate(ctx, { clusterName: cluster.name, addonName, version });
  ctx.clock.after(ADDON_UPDATE_MS, () => {
    ctx.state.addonVersions = { ...ctx.state.addonVersions, [addonName]: version };
    update.status = "Successful";
  });
  return { update: updateView(update) };
}

export async function handleEks(
  ctx: AwsContext,
  request: RestRequest,
  response: ServerResponse,
): Promise<void> {
  const { method, url } = request;
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (method === "GET" && parts.length === 2 && parts[0] === "addons" && parts[1] === "supported-versions") {
    const kubernetesVersion = url.searchParams.get("kubernetesVersion") ?? ctx.cluster().kubernetesVersion;
    const names = url.searchParams.get("addonName")
      ? [url.searchParams.get("addonName") as string]
      : Object.keys(ADDONS);
    return sendJsonResult(response, 200, {
      addons: names
        .filter((name) => ADDONS[name])
        .map((name) => ({
          addonName: name,
          type: "networking",
          addonVersions: [
            {
              addonVersion: addonVersionFor(name, kubernetesVersion),
              architecture: ["amd64", "arm64"],
              compatibilities: [
                { clusterVersion: kubernetesVersion, platformVersions: ["*"], defaultVersion: true },
              ],
            },
          ],
        })),
    });
  }
  if (method === "GET" && parts.length === 1 && parts[0] === "cluster-versions") {
    return sendJsonResult(response, 200, { clusterVersions: versionCalendar(ctx.clock.now()) });
  }
  if (parts[0] !== "clusters" || parts.length < 2) {
    throw new AwsServiceError(
      "UnknownOperationException",
      `The sandbox's EKS does not serve ${method} ${url.pathname}.`,
      404,
    );
  }
  const cluster = clusterOrThrow(ctx, parts[1] as string);
  const [, , collection, item, action] = parts;
  if (method === "GET" && collection === undefined) {
    return sendJsonResult(response, 200, {
      cluster: {
        name: cluster.name,
        arn: `arn:aws:eks:${cluster.region}:${SANDBOX_ACCOUNT}:cluster/${cluster.name}`,
        createdAt: epochSeconds(ctx.clock.now()),
        version: cluster.kubernetesVersion,
        endpoint: ctx.apiServer.url,
        roleArn: `arn:aws:iam::${SANDBOX_ACCOUNT}:role/eksctl-${cluster.name}-cluster-ServiceRole`,
        resourcesVpcConfig: {
          subnetIds: subnetsOf(cluster).map((s) => s.SubnetId),
          securityGroupIds: [],
          clusterSecurityGroupId: clusterSecurityGroupId(cluster),
          vpcId: vpcId(cluster),
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
          publicAccessCidrs: ["0.0.0.0/0"],
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: "10.100.0.0/16", ipFamily: "ipv4" },
        status: "ACTIVE",
        certificateAuthority: { data: Buffer.from(ctx.apiServer.certificate).toString("base64") },
        identity: { oidc: { issuer: oidcIssuer(cluster) } },
        platformVersion: "eks.9",
        tags: { "alpha.eksctl.io/cluster-name": cluster.name },
      },
    });
  }
  if (collection === "updates" && method === "POST" && item === undefined) {
    return sendJsonResult(response, 200, updateClusterVersion(ctx, cluster, request.input));
  }
  if (collection === "addons" && method === "GET" && item === undefined) {
    return sendJsonResult(response, 200, { addons: Object.keys(ADDONS) });
  }
  if (collection === "addons" && method === "POST" && item !== undefined && action === "update") {
    return sendJsonResult(response, 200, updateAddon(ctx, cluster, item, request.input));
  }
  if (collection === "addons" && method === "GET" && item !== undefined) {
    const addon = ADDONS[item];
    if (!addon) {
      throw new AwsServiceError(
        "ResourceNotFoundException",
        `No addon: ${item} found in cluster: ${cluster.name}`,
        404,
      );
    }
    return sendJsonResult(response, 200, {
      addon: {
        addonName: item,
        clusterName: cluster.name,
        status: "ACTIVE",
        addonVersion: installedAddonVersion(ctx, item),
        configurationValues: addon.configurationValues,
        health: { issues: [] },
      },
    });
  }
  if (collection === "node-groups") {
    if (method === "GET" && item === undefined) {
      return sendJsonResult(response, 200, { nodegroups: nodegroupNames(ctx) });
    }
    if (method === "GET" && item !== undefined && action === undefined) {
      return sendJsonResult(response, 200, { nodegroup: describeNodegroup(ctx, cluster, item) });
    }
    if (method === "POST" && item !== undefined && action === "update-version") {
      return sendJsonResult(response, 200, updateNodegroupVersion(ctx, cluster, item, request.input));
    }
  }
  if (collection === "updates" && method === "GET" && item !== undefined) {
    const nodegroup = url.searchParams.get("nodegroupName");
    const addon = url.searchParams.get("addonName");
    const update = ctx.state.updates.find(
      (u) =>
        u.id === item &&
        u.clusterName === cluster.name &&
        (!nodegroup || u.nodegroupName === nodegroup) &&
        (!addon || u.addonName === addon),
    );
    if (!update)
      throw new AwsServiceError("ResourceNotFoundException", `No update found for ID: ${item}.`, 404);
    return sendJsonResult(response, 200, { update: updateView(update) });
  }
  throw new AwsServiceError(
    "UnknownOperationException",
    `The sandbox's EKS does not serve ${method} ${url.pathname}.`,
    404,
  );
}
