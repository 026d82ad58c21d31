/**
 * The steps of `cluster delete`. What blocks the VPC's deletion goes first: LoadBalancer Services (their
 * load balancers live in the VPC's subnets) and the EFS mount targets (network interfaces in them) with
 * their security group. The EFS file system itself is kept unless the user confirmed --delete-data.
 * Then `eksctl delete cluster --wait`, which fails visibly instead of leaving stacks half-deleted.
 */
import type { ListrTask } from "listr2";
import {
  type AwsClients,
  type ClusterInfo,
  callerIdentity,
  deleteFileSystem,
  deleteMountTarget,
  deleteSecurityGroup,
  describeCluster,
  type FileSystemInfo,
  findFileSystem,
  findSecurityGroup,
  listMountTargets,
  type MountTargetInfo,
  pollUntil,
  waitMountTargets,
} from "../../adapters/aws.js";
import { type EksctlEnvironment, eksctlVersion, runEksctl } from "../../adapters/eksctl.js";
import { connectKube, type Kube, type KubeConnectOptions } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { CLUSTER_TAG, efsCreationToken, efsSecurityGroupName } from "../../core/cluster/constants.js";
import { eksctlCommandLine } from "../../core/cluster/plan.js";
import { assertContextReaches } from "./connect.js";

export interface LoadBalancerService {
  namespace: string;
  name: string;
}

export interface DeleteContext {
  name: string;
  region: string;
  clients: AwsClients;
  clusterExists: boolean;
  kube?: Kube;
  loadBalancers: LoadBalancerService[];
  fileSystemId?: string;
  mountTargets: MountTargetInfo[];
  securityGroupId?: string;
  deleteData: boolean;
  done: string[];
  warnings: string[];
}

export interface DeleteStepOptions extends EksctlEnvironment {
  eksctlTimeoutMs: number;
  eksctlTimeoutText: string;
  awsTimeoutMs: number;
  pollIntervalMs: number;
  /** How long a LoadBalancer Service may take to go (its finalizer waits for the load balancer). */
  serviceTimeoutMs: number;
  signal?: AbortSignal;
}

/** Every Service of type LoadBalancer, in all namespaces. */
export async function loadBalancerServices(kube: Kube): Promise<LoadBalancerService[]> {
  const services = await kube.list(Kinds.Service);
  return services
    .filter((s) => s.spec?.type === "LoadBalancer")
    .map((s) => ({ namespace: s.metadata?.namespace ?? "default", name: s.metadata?.name ?? "" }));
}

export interface DeleteTargets {
  cluster?: ClusterInfo;
  fileSystem?: FileSystemInfo;
  mountTargets: MountTargetInfo[];
  securityGroupId?: string;
  /** Connected only when the cluster exists (and checked to be the one being deleted). */
  kube?: Kube;
  loadBalancers: LoadBalancerService[];
}

/** Finds what `cluster delete` would remove; reads only. */
export async function discoverDeleteTargets(input: {
  clients: AwsClients;
  name: string;
  region: string;
  connect: KubeConnectOptions;
  /** Checks eksctl (installed, new enough) before anything is looked up; undefined skips it (dry runs). */
  eksctl?: EksctlEnvironment;
}): Promise<DeleteTargets> {
  const { clients, name, region } = input;
  if (input.eksctl) await eksctlVersion(input.eksctl);
  await callerIdentity(clients);
  const cluster = await describeCluster(clients.eks, name);
  const fileSystem = await findFileSystem(clients.efs, {
    tagKey: CLUSTER_TAG,
    tagValue: name,
    creationToken: efsCreationToken(name),
  });
  const mountTargets = fileSystem ? await listMountTargets(clients.efs, fileSystem.id) : [];
  const securityGroupId = cluster?.vpcId
    ? await findSecurityGroup(clients.ec2, cluster.vpcId, efsSecurityGroupName(name))
    : undefined;
  if (!cluster) return { cluster, fileSystem, mountTargets, securityGroupId, loadBalancers: [] };
  const kube = await connectKube(input.connect);
  assertContextReaches(kube, cluster, region);
  return {
    cluster,
    fileSystem,
    mountTargets,
    securityGroupId,
    kube,
    loadBalancers: await loadBalancerServices(kube),
  };
}

export function eksctlDeleteArgs(name: string, region: string): string[] {
  return ["delete", "cluster", "--name", name, "--region", region, "--wait"];
}

export function deleteTasks(options: DeleteStepOptions): ListrTask<DeleteContext>[] {
  const poll = {
    timeoutMs: options.awsTimeoutMs,
    intervalMs: options.pollIntervalMs,
    signal: options.signal,
  };
  return [
    {
      title: "Remove LoadBalancer Services (their load balancers would block the VPC's deletion)",
      skip: (context) =>
        !context.kube || context.loadBalancers.length === 0 ? "no LoadBalancer Services" : false,
      task: async (context, task) => {
        const kube = context.kube as Kube;
        for (const service of context.loadBalancers) {
          task.output = `deleting Service ${service.namespace}/${service.name}`;
          await kube.delete(named(Kinds.Service, service.name, service.namespace));
        }
        for (const service of context.loadBalancers) {
          task.output = `waiting for ${service.namespace}/${service.name} and its load balancer to go`;
          await kube.waitForDeletion(
            named(Kinds.Service, service.name, service.namespace),
            options.serviceTimeoutMs,
          );
        }
        context.done.push(`deleted ${context.loadBalancers.length} LoadBalancer Service(s)`);
      },
    },
    {
      title: "Remove the EFS mount targets and their security group",
      skip: (context) =>
        context.mountTargets.length === 0 && !context.securityGroupId ? "none found" : false,
      task: async (context, task) => {
        const { efs, ec2 } = context.clients;
        for (const target of context.mountTargets) {
          task.output = `deleting mount target ${target.id} (${target.zone})`;
          await deleteMountTarget(efs, target.id);
        }
        if (context.fileSystemId && context.mountTargets.length > 0) {
          task.output = "waiting for the mount targets to go";
          await waitMountTargets(
            efs,
            context.fileSystemId,
            { gone: context.mountTargets.map((t) => t.id) },
            poll,
          );
          context.done.push(`deleted ${context.mountTargets.length} EFS mount target(s)`);
        }
        const groupId = context.securityGroupId;
        if (groupId) {
          task.output = `deleting security group ${groupId}`;
          // The mount targets' network interfaces linger a little after the targets are gone.
          await pollUntil(async () => ((await deleteSecurityGroup(ec2, groupId)) ? true : undefined), {
            ...poll,
            what: `security group ${groupId} to be free to delete`,
          });
          context.done.push(`deleted security group ${groupId}`);
        }
      },
    },
    {
      title: "Delete the EFS file system (--delete-data)",
      skip: (context) =>
        !context.deleteData
          ? "kept: the registry's data stays (use --delete-data to delete it)"
          : !context.fileSystemId,
      task: async (context) => {
        await deleteFileSystem(context.clients.efs, context.fileSystemId as string);
        context.done.push(`deleted EFS file system ${context.fileSystemId}`);
      },
    },
    {
      title: "Delete the EKS cluster with eksctl (waits until CloudFormation is done)",
      skip: (context) => (!context.clusterExists ? "EKS has no such cluster" : false),
      task: async (context, task) => {
        const args = eksctlDeleteArgs(context.name, context.region);
        task.output = `$ ${eksctlCommandLine(args)}`;
        await runEksctl(args, {
          env: options.env,
          cwd: options.cwd,
          timeoutMs: options.eksctlTimeoutMs,
          timeoutText: options.eksctlTimeoutText,
          signal: options.signal,
          context: { cluster: context.name, region: context.region },
          onLine: (line) => {
            if (line.level === "debug") return;
            if (line.level === "warning") context.warnings.push(`eksctl: ${line.message}`);
            task.output = line.message;
          },
        });
        context.done.push(eksctlCommandLine(args));
      },
    },
  ];
}
