/**
 * Typed references to Kubernetes kinds and objects: a kind carries the @kubernetes/client-node model of
 * its objects, so `kube.list(Kinds.Node)` is a V1Node[] and `kube.get(named(Kinds.Deployment, name, ns))`
 * a V1Deployment. Types only from the client here: importing this module loads nothing.
 *
 * Objects are the JSON the server sent: timestamps are RFC 3339 strings where the models say Date (read
 * them with `new Date(...)`, never as Date objects).
 */
import type {
  CoreV1Event,
  KubernetesObject,
  V1ConfigMap,
  V1CronJob,
  V1CSIDriver,
  V1DaemonSet,
  V1Deployment,
  V1Endpoints,
  V1Job,
  V1Lease,
  V1Namespace,
  V1NetworkPolicy,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1StorageClass,
} from "@kubernetes/client-node";

import type { VolumeSnapshot, VolumeSnapshotClass } from "../core/backup/snapshot.js";
import type { CertManagerCertificate } from "../core/tls/cert-manager.js";

/** A kind, by apiVersion and kind; `T` is the model of its objects (never a value). */
export interface KindRef<T extends KubernetesObject = KubernetesObject> {
  readonly apiVersion: string;
  readonly kind: string;
  /** Carries the object type for inference only; never set. */
  readonly __object?: T;
}

/** One object: its kind, name and (for namespaced kinds) namespace. */
export interface ObjectRef<T extends KubernetesObject = KubernetesObject> extends KindRef<T> {
  readonly name: string;
  readonly namespace?: string;
}

function kind<T extends KubernetesObject>(apiVersion: string, kind: string): KindRef<T> {
  return { apiVersion, kind };
}

/** The kinds clouddrove reads and writes whose models client-node has. */
export const Kinds = {
  ConfigMap: kind<V1ConfigMap>("v1", "ConfigMap"),
  Endpoints: kind<V1Endpoints>("v1", "Endpoints"),
  Event: kind<CoreV1Event>("v1", "Event"),
  Namespace: kind<V1Namespace>("v1", "Namespace"),
  Node: kind<V1Node>("v1", "Node"),
  PersistentVolume: kind<V1PersistentVolume>("v1", "PersistentVolume"),
  PersistentVolumeClaim: kind<V1PersistentVolumeClaim>("v1", "PersistentVolumeClaim"),
  Pod: kind<V1Pod>("v1", "Pod"),
  Secret: kind<V1Secret>("v1", "Secret"),
  Service: kind<V1Service>("v1", "Service"),
  ServiceAccount: kind<V1ServiceAccount>("v1", "ServiceAccount"),
  DaemonSet: kind<V1DaemonSet>("apps/v1", "DaemonSet"),
  Deployment: kind<V1Deployment>("apps/v1", "Deployment"),
  CronJob: kind<V1CronJob>("batch/v1", "CronJob"),
  Job: kind<V1Job>("batch/v1", "Job"),
  Lease: kind<V1Lease>("coordination.k8s.io/v1", "Lease"),
  // CSI snapshots are CRDs: client-node has no models, core/backup/snapshot.ts has the fields read.
  VolumeSnapshot: kind<VolumeSnapshot & KubernetesObject>("snapshot.storage.k8s.io/v1", "VolumeSnapshot"),
  VolumeSnapshotClass: kind<VolumeSnapshotClass & KubernetesObject>(
    "snapshot.storage.k8s.io/v1",
    "VolumeSnapshotClass",
  ),
  // cert-manager's Certificate (tls.mode secret with an issuer): a CRD, fields in core/tls/cert-manager.ts.
  Certificate: kind<CertManagerCertificate & KubernetesObject>("cert-manager.io/v1", "Certificate"),
  NetworkPolicy: kind<V1NetworkPolicy>("networking.k8s.io/v1", "NetworkPolicy"),
  PodDisruptionBudget: kind<V1PodDisruptionBudget>("policy/v1", "PodDisruptionBudget"),
  CSIDriver: kind<V1CSIDriver>("storage.k8s.io/v1", "CSIDriver"),
  StorageClass: kind<V1StorageClass>("storage.k8s.io/v1", "StorageClass"),
} as const;

/** The object `name` (in `namespace`) of a kind. */
export function named<T extends KubernetesObject>(
  of: KindRef<T>,
  name: string,
  namespace?: string,
): ObjectRef<T> {
  return { apiVersion: of.apiVersion, kind: of.kind, name, namespace };
}

/** "Deployment ns/name", for messages. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
}
