/**
 * Step: server-side apply of every rendered object, in dependency order, with field manager clouddrove.
 * One write per object; what each write did (created, configured, unchanged) comes from comparing
 * resourceVersions with the live objects listed once per kind beforehand.
 */
import type { ListrTask } from "listr2";
import {
  classifyApply,
  comparable,
  countActions,
  foreignManagers,
  PRUNABLE_KINDS,
  refKey,
  refOf,
  sameContent,
} from "../../core/deploy/objects.js";
import { unifiedDiff } from "../../core/diff.js";
import { names } from "../../core/render/names.js";
import type { KubeObject } from "../../core/render/types.js";
import { OperationError } from "../../errors.js";
import type { AppliedObject, DeployContext } from "./context.js";

/** Lists what exists now, so the apply can tell created from configured from unchanged. */
export async function readLiveObjects(ctx: DeployContext): Promise<void> {
  const ns = ctx.config.namespace;
  const lists = await Promise.all(
    PRUNABLE_KINDS.map((k) =>
      ctx.kube.list<KubeObject & { metadata: { name: string } }>(k.apiVersion, k.kind, { namespace: ns }),
    ),
  );
  ctx.stats.lists += PRUNABLE_KINDS.length;
  for (const [index, items] of lists.entries()) {
    const { apiVersion, kind } = PRUNABLE_KINDS[index] as (typeof PRUNABLE_KINDS)[number];
    for (const item of items) {
      // Lists leave out apiVersion and kind on their items.
      const object = { ...item, apiVersion, kind } as KubeObject;
      ctx.live.set(refKey(refOf(object)), object);
    }
  }
  for (const object of ctx.objects) {
    if (!["Namespace", "PersistentVolume", "PersistentVolumeClaim"].includes(object.kind)) continue;
    const live = await ctx.kube.get(
      object.apiVersion,
      object.kind,
      object.metadata.name,
      object.metadata.namespace,
    );
    ctx.stats.reads++;
    if (live)
      ctx.live.set(refKey(refOf(object)), {
        ...live,
        apiVersion: object.apiVersion,
        kind: object.kind,
      } as KubeObject);
  }
}

async function toYaml(object: KubeObject | undefined): Promise<string> {
  if (!object) return "";
  const { toYaml } = await import("../../core/yaml/emit.js");
  return toYaml(comparable(object));
}

function conflictError(error: unknown): OperationError | undefined {
  const cause = (error as { cause?: { code?: number } })?.cause;
  if (!(error instanceof OperationError) || cause?.code !== 409) return undefined;
  return new OperationError(
    error.message.replace(/^The Kubernetes API answered 409 while /, "Conflict while "),
    {
      cause: error,
      hint:
        "Another field manager owns those fields (someone changed them with kubectl or another tool). Decide who " +
        "should own them; to let clouddrove take them over, run deploy again with --force-conflicts.",
    },
  );
}

/**
 * Objects that depend on each other go in separate tiers, applied in order; within a tier the writes go
 * out together (one round trip per tier instead of one per object).
 */
const TIER_OF_KIND: Record<string, number> = {
  Namespace: 0,
  ServiceAccount: 1,
  ConfigMap: 1,
  Secret: 1,
  PersistentVolume: 1,
  PersistentVolumeClaim: 2,
};
const LAST_TIER = 3;

export function applyTiers(objects: KubeObject[]): KubeObject[][] {
  const tiers: KubeObject[][] = Array.from({ length: LAST_TIER + 1 }, () => []);
  for (const object of objects) tiers[TIER_OF_KIND[object.kind] ?? LAST_TIER]?.push(object);
  return tiers.filter((tier) => tier.length > 0);
}

async function applyOne(
  ctx: DeployContext,
  object: KubeObject,
  options: { dryRun: boolean; namespaceMissing: boolean },
): Promise<AppliedObject> {
  const ref = refOf(object);
  const before = ctx.live.get(refKey(ref));
  if (options.dryRun && options.namespaceMissing && object.metadata.namespace) {
    // The server cannot check an object in a namespace that a dry run did not really create.
    if (ctx.options.diff) ctx.diffs.push(unifiedDiff("", await toYaml(object), labels(object)));
    return { ...ref, action: "created" };
  }
  let after: KubeObject;
  try {
    after = (await ctx.kube.apply(object, {
      force: ctx.options.forceConflicts,
      dryRun: options.dryRun,
    })) as KubeObject;
  } catch (error) {
    throw conflictError(error) ?? error;
  }
  ctx.stats.writes++;
  const action = options.dryRun ? dryRunAction(before, after) : classifyApply(before, after);
  if (ctx.options.diff && action !== "unchanged") {
    ctx.diffs.push(unifiedDiff(await toYaml(before), await toYaml(after), labels(object)));
  }
  return { ...ref, action };
}

export const isPullSecret = (object: KubeObject): boolean =>
  object.kind === "Secret" && object.metadata.name === names.pullSecret;

/** The objects a new server certificate changes: its Secret, and the pods that serve it. */
export const servesCertificate = (object: KubeObject): boolean =>
  (object.kind === "Secret" && object.metadata.name === names.tlsSecret) ||
  (object.kind === "Deployment" && object.metadata.name === names.deployment);

/**
 * One object applied by a later step (once the load balancer's address is known), reported with the
 * others: in apply order, and as configured when an earlier step of this run had already written it.
 */
export async function applyLate(ctx: DeployContext, object: KubeObject): Promise<void> {
  const after = (await ctx.kube.apply(object, { force: ctx.options.forceConflicts })) as KubeObject;
  ctx.stats.writes++;
  const key = refKey(refOf(object));
  const action = classifyApply(ctx.live.get(key), after);
  const earlier = ctx.applied.find((a) => refKey(a) === key);
  // Applied earlier in this run (the address changed since): the second write configured it.
  if (earlier && earlier.action !== "created" && action !== "unchanged") earlier.action = "configured";
  if (!earlier) {
    ctx.applied.push({ ...refOf(object), action });
    // Reported in apply order, like every other object (pruned ones, not rendered, stay last).
    const order = new Map(ctx.objects.map((o, i) => [refKey(refOf(o)), i]));
    const rank = (a: AppliedObject) => order.get(refKey(a)) ?? ctx.objects.length;
    ctx.applied.sort((a, b) => rank(a) - rank(b));
  }
}

export function applyStep(): ListrTask<DeployContext> {
  return {
    title: "Apply the registry objects",
    task: async (ctx, task) => {
      await readLiveObjects(ctx);
      reportForeignManagers(ctx);
      const namespaceKey = refKey({ apiVersion: "v1", kind: "Namespace", name: ctx.config.namespace });
      // Made by this run just before, to hold the lock: to the person reading the report, the deploy created it.
      if (ctx.createdNamespace) ctx.live.delete(namespaceKey);
      const options = {
        dryRun: ctx.options.serverDryRun || ctx.options.diff,
        namespaceMissing: !ctx.live.has(namespaceKey),
      };
      const results = new Map<KubeObject, AppliedObject>();
      // Without a load balancer address yet (a first deploy), the pull Secret waits for it.
      ctx.pullSecretPending = !options.dryRun && !ctx.credentials.pullHosts;
      // Likewise the certificate and the pods serving it: a certificate without the address would roll
      // the replicas a second time once it is issued again with it.
      ctx.certificatePending = !options.dryRun && ctx.tls !== undefined && !ctx.credentials.pullHosts;
      const now = ctx.objects.filter(
        (object) =>
          !(ctx.pullSecretPending && isPullSecret(object)) &&
          !(ctx.certificatePending && servesCertificate(object)),
      );
      let done = 0;
      for (const tier of applyTiers(now)) {
        task.output = `${done}/${ctx.objects.length}: ${tier.map((o) => `${o.kind} ${o.metadata.name}`).join(", ")}`;
        const applied = await Promise.all(tier.map((object) => applyOne(ctx, object, options)));
        for (const [i, object] of tier.entries()) results.set(object, applied[i] as AppliedObject);
        done += tier.length;
      }
      // Reported in apply order, whatever order the writes within a tier finished in.
      ctx.applied.push(...now.map((object) => results.get(object) as AppliedObject));
      const counts = countActions(ctx.applied.map((a) => a.action));
      // The report lists the pull Secret too; the title says why it is not counted yet.
      const waiting = ctx.certificatePending
        ? "; the pull Secret, the server certificate and the Deployment wait for the load balancer's address"
        : ctx.pullSecretPending
          ? "; the pull Secret waits for the load balancer's address"
          : "";
      task.title = `Apply the registry objects${options.dryRun ? " (server dry run)" : ""}: ${counts}${waiting}`;
    },
  };
}

/** Before any write: objects someone else also manages (kubectl by hand, another tool) are named. */
function reportForeignManagers(ctx: DeployContext): void {
  for (const object of ctx.objects) {
    const live = ctx.live.get(refKey(refOf(object)));
    const others = live ? foreignManagers(live) : [];
    if (others.length > 0) {
      ctx.warnings.push(
        `${object.kind}/${object.metadata.name} is also managed by ${others.join(", ")}: fields they own and ` +
          "clouddrove applies differently are a conflict (--force-conflicts takes them over)",
      );
    }
  }
}

function labels(object: KubeObject) {
  const name = `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata.name}`;
  return { from: `live ${name}`, to: `rendered ${name}` };
}

/** A dry run never bumps resourceVersion, so compare the content the server would store. */
function dryRunAction(
  before: KubeObject | undefined,
  after: KubeObject,
): "created" | "configured" | "unchanged" {
  if (!before) return "created";
  return sameContent(before, after) ? "unchanged" : "configured";
}
