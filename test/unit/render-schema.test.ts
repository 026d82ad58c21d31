/**
 * Every rendered object (and every template as it is) against the Kubernetes API schemas: the JSON
 * schemas of kubernetes-models, plus a stricter walk over @kubernetes/client-node's model field lists,
 * because the API schemas allow unknown fields that a real server with fieldValidation=Strict rejects.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ConfigMap,
  Namespace,
  PersistentVolume,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { type KubeObject, renderManifests } from "../../src/core/render/index.js";
import { loadTemplateObjects } from "../../src/core/render/templates.js";
import { type KindSchema, schemaProblems } from "../support/kube-schema.js";
import { credentials, tls } from "../support/render-fixtures.js";

const KINDS: Record<string, KindSchema> = {
  Namespace: { schema: Namespace, client: "V1Namespace" },
  ServiceAccount: { schema: ServiceAccount, client: "V1ServiceAccount" },
  ConfigMap: { schema: ConfigMap, client: "V1ConfigMap" },
  Secret: { schema: Secret, client: "V1Secret" },
  PersistentVolume: { schema: PersistentVolume, client: "V1PersistentVolume" },
  PersistentVolumeClaim: { schema: PersistentVolumeClaim, client: "V1PersistentVolumeClaim" },
  Deployment: { schema: Deployment, client: "V1Deployment" },
  PodDisruptionBudget: { schema: PodDisruptionBudget, client: "V1PodDisruptionBudget" },
  Service: { schema: Service, client: "V1Service" },
  NetworkPolicy: { schema: NetworkPolicy, client: "V1NetworkPolicy" },
};
const registryProblems = (object: KubeObject) => schemaProblems(object, KINDS);

const CONFIGS: Record<string, string[]> = {
  defaults: ["storage.efs.fileSystemId=fs-0123456789abcdef0"],
  nfs: ["storage.type=nfs", "storage.nfs.server=10.0.0.10", "storage.nfs.path=/exports/registry"],
  "cidrs, clb, internet-facing, pod identity": [
    "storage.efs.fileSystemId=fs-0123456789abcdef0",
    "network.allowedCidrs=203.0.113.0/24,2001:db8::/32",
    "network.loadBalancer=clb",
    "network.scheme=internet-facing",
    "backup.credentials=pod-identity",
  ],
  "other replicas, sizes, namespace": [
    "storage.efs.fileSystemId=fs-0123456789abcdef0",
    "namespace=team-registry",
    "registry.replicas=5",
    "storage.size=200Gi",
    "registry.memoryLimit=4Gi",
  ],
  "insecure-http": ["storage.efs.fileSystemId=fs-0123456789abcdef0", "tls.mode=insecure-http"],
};

describe("rendered objects against the Kubernetes API schemas", () => {
  for (const [name, set] of Object.entries(CONFIGS)) {
    it(`validates every object (${name})`, async () => {
      const objects = await renderManifests(resolveConfig({ set }).config, credentials, tls);
      // The CA Secret and ConfigMap and the server certificate's Secret, unless the registry speaks HTTP.
      expect(objects.length).toBe(name === "insecure-http" ? 14 : 17);
      expect(objects.flatMap(registryProblems)).toEqual([]);
    });
  }

  it("validates the templates as they are (what `kubectl apply -f templates/registry/` sends)", async () => {
    const objects = await loadTemplateObjects();
    expect(objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ConfigMap",
      "Secret",
      "Secret",
      "Secret",
      "Secret",
      "ConfigMap",
      "Secret",
      "PersistentVolume",
      "PersistentVolumeClaim",
      "Deployment",
      "PodDisruptionBudget",
      "Service",
      "NetworkPolicy",
      "NetworkPolicy",
      "NetworkPolicy",
    ]);
    expect(objects.flatMap(registryProblems)).toEqual([]);
  });

  it("the checks catch what a server rejects (so a pass above means something)", async () => {
    const objects = await renderManifests(resolveConfig({ set: CONFIGS.defaults }).config, credentials, tls);
    const deployment = structuredClone(objects.find((o) => o.kind === "Deployment") as KubeObject);
    const spec = deployment.spec as Record<string, unknown>;
    spec.replicas = "3";
    spec.maxSurge = 0;
    const problems = registryProblems(deployment);
    expect(problems).toContain(
      "Deployment/registry-clouddrove.spec.maxSurge: unknown field of V1DeploymentSpec",
    );
    expect(problems).toContain('Deployment/registry-clouddrove.spec.replicas: "3" is not a number');
    expect(problems.some((p) => p.includes("/spec/replicas"))).toBe(true);
  });
});
