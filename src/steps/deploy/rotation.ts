/**
 * The password rotation's record in the cluster (core/deploy/rotation.ts): read before a deploy decides
 * whether a rotation is under way, written before each phase, deleted when the rotation is over.
 */
import type { Kube } from "../../adapters/kube.js";
import { Kinds, named } from "../../adapters/kube-kinds.js";
import { ROTATION_SECRET, type Rotation, readRotation, rotationSecret } from "../../core/deploy/rotation.js";

export async function readRotationRecord(kube: Kube, namespace: string): Promise<Rotation | undefined> {
  const secret = await kube.get(named(Kinds.Secret, ROTATION_SECRET, namespace));
  return readRotation(secret as { data?: Record<string, string> } | undefined);
}

export async function saveRotationRecord(kube: Kube, namespace: string, rotation: Rotation): Promise<void> {
  await kube.apply(rotationSecret(namespace, rotation));
}

export async function deleteRotationRecord(kube: Kube, namespace: string): Promise<void> {
  await kube.delete(named(Kinds.Secret, ROTATION_SECRET, namespace));
}
