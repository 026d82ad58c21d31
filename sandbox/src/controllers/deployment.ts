/**
 * The Deployment controller, following kube-controller-manager's deployment package step by step:
 * ReplicaSets named by the template hash, revisions, rolling updates that scale the new ReplicaSet up
 * within maxSurge and the old ones down within maxUnavailable (against the ReplicaSets' *available*
 * replicas), Recreate, proportional scaling, history cleanup, and the Progressing/Available conditions
 * with progressDeadlineSeconds. Rollback is re-applying an older template: its ReplicaSet is reused
 * and gets the next revision.
 */

import { ApiError, type KubeObject, type WatchEvent } from "../types.js";
import {
  calculateStatus,
  newCondition,
  removeCondition,
  rolloutStatus,
  type Status,
  setDeploymentCondition,
} from "./deployment-status.js";
import {
  Annotations,
  creationOrder,
  deploymentComplete,
  equalIgnoreHash,
  isRollingUpdate,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  progressDeadlineSeconds,
  proportionalSizes,
  replicasOf,
  revisionOf,
  setNewReplicaSetAnnotations,
  specReplicas,
  sumSpec,
  sumStatus,
  TEMPLATE_HASH,
  templateHash,
} from "./deployment-util.js";
import { ownedBy } from "./pods.js";
import { isPodTerminal } from "./predicates.js";
import {
  type Condition,
  type ControllerContext,
  clone,
  controllerOf,
  deleteQuietly,
  keyOf,
  ownerReference,
  patchObject,
  patchStatus,
  sameJson,
  splitKey,
  WorkQueue,
} from "./runtime.js";

const SOURCE = "deployment-controller";

export function startDeploymentController(ctx: ControllerContext): void {
  const { store, clock } = ctx;
  const queue = new WorkQueue(ctx, "deployment", sync);

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const d = store.get("Deployment", namespace, name);
    if (d === undefined || d.metadata.deletionTimestamp) return;
    new DeploymentSync(d).run();
  }

  /** One pass over one Deployment; keeps its view of the Deployment and ReplicaSets current as it writes. */
  class DeploymentSync {
    private rsList: KubeObject[];

    constructor(private d: KubeObject) {
      this.rsList = store
        .list("ReplicaSet", { namespace: d.metadata.namespace })
        .filter((rs) => ownedBy(rs, d));
    }

    run(): void {
      if (this.d.spec?.paused || this.isScalingEvent()) {
        this.syncScale();
        return;
      }
      if (isRollingUpdate(this.d)) this.rolloutRolling();
      else this.rolloutRecreate();
    }

    // --- ReplicaSets and revisions ---------------------------------------------------------------

    private replace(rs: KubeObject): KubeObject {
      this.rsList = this.rsList.map((r) => (r.metadata.uid === rs.metadata.uid ? rs : r));
      return rs;
    }

    private writeStatus(mutate: (status: Status) => void): void {
      const updated = patchStatus(
        ctx,
        "Deployment",
        this.d.metadata.namespace,
        this.d.metadata.name,
        (next) => {
          next.status = next.status ?? {};
          mutate(next.status);
        },
      );
      if (updated) this.d = updated;
    }

    private setRevision(revision: string | undefined): void {
      if (revision === undefined || this.d.metadata.annotations?.[Annotations.revision] === revision) return;
      const updated = patchObject(
        ctx,
        "Deployment",
        this.d.metadata.namespace,
        this.d.metadata.name,
        (next) => {
          next.metadata.annotations = { ...next.metadata.annotations, [Annotations.revision]: revision };
        },
      );
      if (updated) this.d = updated;
    }

    private getAll(createIfMissing: boolean): { newRS?: KubeObject; oldRSs: KubeObject[] } {
      const d = this.d;
      const existing = [...this.rsList]
        .sort(creationOrder)
        .find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
      const oldRSs = this.rsList.filter((rs) => rs !== existing);
      const newRevision = Math.max(0, ...oldRSs.map(revisionOf)) + 1;
      if (existing) {
        const copy = clone(existing);
        const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
        const minReady = d.spec?.minReadySeconds ?? 0;
        let rs = existing;
        if (annotationsChanged || (copy.spec.minReadySeconds ?? 0) !== minReady) {
          copy.spec.minReadySeconds = minReady;
          rs = this.replace(store.update(copy));
        }
        this.setRevision(rs.metadata.annotations?.[Annotations.revision]);
        if (
          progressDeadlineSeconds(d) !== undefined &&
          !(this.d.status?.conditions ?? []).some((c: Condition) => c.type === "Progressing")
        ) {
          this.writeStatus((status) =>
            setDeploymentCondition(
              status,
              newCondition(
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                `Found new replica set "${rs.metadata.name}"`,
                clock.now(),
              ),
            ),
          );
        }
        return { newRS: rs, oldRSs };
      }
      if (!createIfMissing) return { oldRSs };
      return { newRS: this.createNewReplicaSet(oldRSs, newRevision), oldRSs };
    }

    private createNewReplicaSet(oldRSs: KubeObject[], newRevision: number): KubeObject | undefined {
      const d = this.d;
      const hash = templateHash(d.spec.template, d.status?.collisionCount);
      const template = clone(d.spec.template);
      template.metadata = {
        ...template.metadata,
        labels: { ...template.metadata?.labels, [TEMPLATE_HASH]: hash },
      };
      const selector = clone(d.spec.selector ?? {});
      selector.matchLabels = { ...selector.matchLabels, [TEMPLATE_HASH]: hash };
      const replicas = newRSNewReplicas(d, oldRSs, undefined);
      const rs: KubeObject = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: template.metadata.labels,
          ownerReferences: [ownerReference(d)],
        },
        spec: { replicas, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
      };
      setNewReplicaSetAnnotations(d, rs, newRevision, false);
      let created: KubeObject;
      try {
        created = store.create(rs);
        this.rsList.push(created);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
        const clash = store.get("ReplicaSet", d.metadata.namespace, rs.metadata.name);
        if (clash && ownedBy(clash, d) && equalIgnoreHash(clash.spec?.template, d.spec.template)) {
          this.rsList.push(clash);
          return clash;
        }
        // A hash collision with someone else's ReplicaSet: count it, so the next hash differs.
        this.writeStatus((status) => {
          status.collisionCount = (status.collisionCount ?? 0) + 1;
        });
        queue.add(keyOf(d));
        return undefined;
      }
      if (replicas > 0) {
        ctx.events.normal(
          d,
          "ScalingReplicaSet",
          `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`,
          SOURCE,
        );
      }
      this.setRevision(String(newRevision));
      if (progressDeadlineSeconds(d) !== undefined) {
        this.writeStatus((status) => {
          removeCondition(status, "Progressing");
          setDeploymentCondition(
            status,
            newCondition(
              "Progressing",
              "True",
              "NewReplicaSetCreated",
              `Created new replica set "${created.metadata.name}"`,
              clock.now(),
            ),
          );
        });
      }
      return created;
    }

    /** Scales a ReplicaSet and records the desired/max replicas it was scaled for. */
    private scale(rs: KubeObject, replicas: number): KubeObject {
      const d = this.d;
      const desired = String(replicasOf(d));
      const max = String(replicasOf(d) + maxSurge(d));
      const sizeChanges = specReplicas(rs) !== replicas;
      const annotations = rs.metadata.annotations ?? {};
      if (
        !sizeChanges &&
        annotations[Annotations.desiredReplicas] === desired &&
        annotations[Annotations.maxReplicas] === max
      ) {
        return rs;
      }
      const copy = clone(rs);
      copy.spec.replicas = replicas;
      copy.metadata.annotations = {
        ...annotations,
        [Annotations.desiredReplicas]: desired,
        [Annotations.maxReplicas]: max,
      };
      const updated = this.replace(store.update(copy));
      if (sizeChanges) {
        const direction = replicas > specReplicas(rs) ? "up" : "down";
        ctx.events.normal(
          d,
          "ScalingReplicaSet",
          `Scaled ${direction} replica set ${rs.metadata.name} from ${specReplicas(rs)} to ${replicas}`,
          SOURCE,
        );
      }
      return updated;
    }

    private scaleIfNeeded(rs: KubeObject, replicas: number): { scaled: boolean; rs: KubeObject } {
      if (specReplicas(rs) === replicas) return { scaled: false, rs };
      return { scaled: true, rs: this.scale(rs, replicas) };
    }

    // --- strategies ------------------------------------------------------------------------------

    private rolloutRolling(): void {
      const { newRS, oldRSs } = this.getAll(true);
      if (newRS === undefined) return;
      let current = this.rsList.find((rs) => rs.metadata.uid === newRS.metadata.uid) ?? newRS;
      const olds = () =>
        this.rsList.filter(
          (rs) =>
            rs.metadata.uid !== current.metadata.uid &&
            oldRSs.some((o) => o.metadata.uid === rs.metadata.uid),
        );
      // Scale up the new ReplicaSet within maxSurge.
      const desired = replicasOf(this.d);
      if (specReplicas(current) !== desired) {
        const target =
          specReplicas(current) > desired ? desired : newRSNewReplicas(this.d, this.rsList, current);
        const result = this.scaleIfNeeded(current, target);
        current = result.rs;
        if (result.scaled) {
          this.syncRolloutStatus(current);
          return;
        }
      }
      // Scale down old ones within maxUnavailable.
      if (
        this.reconcileOldReplicaSets(
          olds().filter((rs) => specReplicas(rs) > 0),
          current,
        )
      ) {
        this.syncRolloutStatus(current);
        return;
      }
      if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanup(olds());
      this.syncRolloutStatus(current);
    }

    private reconcileOldReplicaSets(oldRSs: KubeObject[], newRS: KubeObject): boolean {
      const d = this.d;
      if (sumSpec(oldRSs) === 0) return false;
      const minAvailable = replicasOf(d) - maxUnavailable(d);
      const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
      const maxScaledDown = sumSpec(this.rsList) - minAvailable - newUnavailable;
      if (maxScaledDown <= 0) return false;
      // First the old ReplicaSets' unhealthy replicas: they are no loss of availability.
      let cleaned = 0;
      const sorted = [...oldRSs].sort(creationOrder);
      for (let i = 0; i < sorted.length && cleaned < maxScaledDown; i++) {
        const rs = sorted[i]!;
        const available = rs.status?.availableReplicas ?? 0;
        if (specReplicas(rs) === 0 || specReplicas(rs) === available) continue;
        const count = Math.min(maxScaledDown - cleaned, specReplicas(rs) - available);
        sorted[i] = this.scale(rs, specReplicas(rs) - count);
        cleaned += count;
      }
      // Then healthy ones, as far as availability allows.
      const availablePods = sumStatus(this.rsList, "availableReplicas");
      let scaledDown = 0;
      if (availablePods > minAvailable) {
        const total = availablePods - minAvailable;
        for (const rs of sorted) {
          if (scaledDown >= total) break;
          const latest = this.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
          if (specReplicas(latest) === 0) continue;
          const count = Math.min(specReplicas(latest), total - scaledDown);
          this.scale(latest, specReplicas(latest) - count);
          scaledDown += count;
        }
      }
      return cleaned + scaledDown > 0;
    }

    private rolloutRecreate(): void {
      let { newRS, oldRSs } = this.getAll(false);
      let scaledDown = false;
      for (const rs of oldRSs) {
        if (specReplicas(rs) > 0) {
          this.scale(rs, 0);
          scaledDown = true;
        }
      }
      if (scaledDown || this.oldPodsRunning(oldRSs)) {
        this.syncRolloutStatus(newRS);
        return;
      }
      if (newRS === undefined) {
        ({ newRS, oldRSs } = this.getAll(true));
        if (newRS === undefined) return;
      }
      const current = this.scaleIfNeeded(newRS, replicasOf(this.d)).rs;
      if (deploymentComplete(this.d, this.d.status ?? {})) this.cleanup(oldRSs);
      this.syncRolloutStatus(current);
    }

    /** Recreate waits until no pod of an old ReplicaSet runs, terminating ones included. */
    private oldPodsRunning(oldRSs: KubeObject[]): boolean {
      const latest = oldRSs.map((rs) => this.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs);
      if (latest.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
      const pods = store.list("Pod", { namespace: this.d.metadata.namespace });
      return pods.some((pod) => latest.some((rs) => ownedBy(pod, rs)) && !isPodTerminal(pod));
    }

    // --- scaling ---------------------------------------------------------------------------------

    private isScalingEvent(): boolean {
      const { newRS, oldRSs } = this.getAll(false);
      const all = [...oldRSs, ...(newRS ? [newRS] : [])].filter((rs) => specReplicas(rs) > 0);
      return all.some((rs) => {
        const desired = rs.metadata.annotations?.[Annotations.desiredReplicas];
        return desired !== undefined && Number(desired) !== replicasOf(this.d);
      });
    }

    private syncScale(): void {
      const { newRS, oldRSs } = this.getAll(false);
      this.scaleProportionally(newRS, oldRSs);
      const latestNew = newRS ? this.rsList.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
      if (this.d.spec?.paused) this.cleanup(this.rsList.filter((rs) => rs !== latestNew));
      this.replaceStatus(calculateStatus(this.d, this.rsList, latestNew, clock.now()));
    }

    private scaleProportionally(newRS: KubeObject | undefined, oldRSs: KubeObject[]): void {
      const sizes = proportionalSizes(this.d, newRS, oldRSs);
      for (const rs of [...oldRSs, ...(newRS ? [newRS] : [])]) {
        const size = sizes.get(rs.metadata.uid ?? rs.metadata.name);
        if (size === undefined) continue;
        const latest = this.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
        // A single active ReplicaSet only changes when its size does (scaleReplicaSetAndRecordEvent).
        if (sizes.size === 1 && specReplicas(latest) === size) continue;
        this.scale(latest, size);
      }
    }

    private cleanup(oldRSs: KubeObject[]): void {
      const limit = this.d.spec?.revisionHistoryLimit ?? 10;
      const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
      const excess = alive.length - limit;
      if (excess <= 0) return;
      const byRevision = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of byRevision.slice(0, excess)) {
        if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0) continue;
        deleteQuietly(ctx, "ReplicaSet", rs.metadata.namespace, rs.metadata.name);
      }
    }

    // --- status ----------------------------------------------------------------------------------

    private latest(rs: KubeObject | undefined): KubeObject | undefined {
      return rs ? (this.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs) : undefined;
    }

    private replaceStatus(status: Status): void {
      if (sameJson(status, this.d.status)) return;
      this.writeStatus((s) => {
        for (const key of Object.keys(s)) delete s[key];
        Object.assign(s, status);
      });
    }

    private syncRolloutStatus(newRS: KubeObject | undefined): void {
      const { status, recheckAfter } = rolloutStatus(this.d, this.rsList, this.latest(newRS), clock.now());
      this.replaceStatus(status);
      if (recheckAfter !== undefined) queue.addAfter(keyOf(this.d), recheckAfter);
    }
  }

  const onDeployment = (event: WatchEvent) => {
    if (event.type !== "DELETED") queue.add(keyOf(event.object));
  };
  const onReplicaSet = (event: WatchEvent) => {
    const owner = controllerOf(event.object);
    if (owner?.kind === "Deployment") queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  const onPod = (event: WatchEvent) => {
    // Recreate waits for old pods to be gone.
    if (event.type !== "DELETED") return;
    const rsRef = controllerOf(event.object);
    if (rsRef?.kind !== "ReplicaSet") return;
    const rs = store.get("ReplicaSet", event.object.metadata.namespace, rsRef.name);
    const owner = rs ? controllerOf(rs) : undefined;
    if (owner?.kind === "Deployment") queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  };
  ctx.cleanups.push(
    store.subscribe("Deployment", onDeployment),
    store.subscribe("ReplicaSet", onReplicaSet),
    store.subscribe("Pod", onPod),
  );
  for (const d of store.list("Deployment")) queue.add(keyOf(d));
}
