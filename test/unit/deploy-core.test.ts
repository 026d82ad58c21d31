import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { isComplete, readStoredCredentials } from "../../src/core/deploy/credentials.js";
import {
  classifyApply,
  comparable,
  foreignManagers,
  pruneCandidates,
} from "../../src/core/deploy/objects.js";
import {
  evaluatePreflight,
  type PreflightFacts,
  registryDowngradeProblem,
} from "../../src/core/deploy/preflight.js";
import type { KubeObject } from "../../src/core/render/types.js";
import { node } from "../support/health-fixtures.js";

const config = resolveConfig({ flags: { efsFileSystemId: "fs-0123456789abcdef0" } }).config;

function facts(overrides: Partial<PreflightFacts> = {}): PreflightFacts {
  return {
    groupVersions: ["v1", "apps/v1", "policy/v1", "networking.k8s.io/v1", "batch/v1"],
    kinds: {
      "apps/v1": ["Deployment"],
      "policy/v1": ["PodDisruptionBudget"],
      "networking.k8s.io/v1": ["NetworkPolicy"],
      "batch/v1": ["Job", "CronJob"],
    },
    nodes: [node("a", "eu-west-1a"), node("b", "eu-west-1b"), node("c", "eu-west-1c")],
    csiDrivers: ["efs.csi.aws.com", "ebs.csi.aws.com"],
    ...overrides,
  };
}

describe("registry versions", () => {
  it("refuses to move the registry back a major version, allows the same or a newer one", () => {
    expect(registryDowngradeProblem("registry:3.0.0", "2.8.2")).toContain("forward-only");
    expect(registryDowngradeProblem("docker.io/library/registry:3.0.0", "2.8.3")).toContain("registry:3.0.0");
    expect(registryDowngradeProblem("registry:2.8.2", "3.0.0")).toBeUndefined();
    expect(registryDowngradeProblem("registry:2.8.2", "2.7.1")).toBeUndefined();
    expect(registryDowngradeProblem(undefined, "2.8.2")).toBeUndefined();
  });
});

describe("deploy preflight", () => {
  it("passes on three schedulable nodes in three zones with the EFS driver", () => {
    const result = evaluatePreflight(config, facts());
    expect(result.blocking).toEqual([]);
    expect(result.forceable).toEqual([]);
    expect(Object.keys(result.zones)).toHaveLength(3);
  });

  it("stops (unless forced) when only two zones have schedulable nodes", () => {
    const nodes = [
      node("a", "eu-west-1a"),
      node("b", "eu-west-1b"),
      node("c", "eu-west-1c", { spec: { unschedulable: true } }),
    ];
    const result = evaluatePreflight(config, facts({ nodes }));
    expect(result.forceable[0]).toContain("3 replicas need 3 schedulable nodes in 3 distinct zones");
    expect(result.forceable[0]).toContain("1 replica(s) Pending");
  });

  it("counts two nodes in one zone as one zone", () => {
    const nodes = [node("a", "eu-west-1a"), node("b", "eu-west-1a"), node("c", "eu-west-1b")];
    expect(evaluatePreflight(config, facts({ nodes })).forceable).toHaveLength(1);
  });

  it("blocks without the CSI driver or a needed API", () => {
    const result = evaluatePreflight(config, facts({ csiDrivers: [], kinds: { "apps/v1": ["Deployment"] } }));
    expect(result.blocking.join("\n")).toContain("efs.csi.aws.com");
    expect(result.blocking.join("\n")).toContain("policy/v1 PodDisruptionBudget");
    expect(result.blocking.join("\n")).toContain("batch/v1 CronJob");
  });

  it("needs no CSI driver for NFS", () => {
    const nfs = resolveConfig({ flags: { storageType: "nfs", nfsServer: "nfs.local" } }).config;
    expect(evaluatePreflight(nfs, facts({ csiDrivers: [] })).blocking).toEqual([]);
  });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
const LINE = `clouddrove:$2b$10$${"a".repeat(53)}`;

describe("stored credentials", () => {
  it("reads the password, htpasswd line and http secret back", () => {
    const stored = readStoredCredentials({
      htpasswd: { data: { htpasswd: b64(`${LINE}\n`) } },
      http: { data: { "http-secret": b64("s3cr3t") } },
      pull: {
        data: {
          ".dockerconfigjson": b64(
            JSON.stringify({ auths: { "r:5000": { username: "clouddrove", password: "pw-123456789012" } } }),
          ),
        },
      },
    });
    expect(stored).toEqual({
      username: "clouddrove",
      htpasswd: LINE,
      httpSecret: "s3cr3t",
      password: "pw-123456789012",
    });
    expect(isComplete(stored)).toBe(true);
  });

  it("is incomplete when a Secret is missing or unparsable", () => {
    const stored = readStoredCredentials({
      htpasswd: { data: { htpasswd: b64("clouddrove:{SHA}notbcrypt") } },
      http: undefined,
      pull: { data: { ".dockerconfigjson": b64("{not json") } },
    });
    expect(stored).toEqual({ httpSecret: undefined });
    expect(isComplete(stored)).toBe(false);
  });
});

const obj = (kind: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name,
    namespace: "clouddrove",
    labels: { "app.kubernetes.io/managed-by": "clouddrove" },
    ...extra,
  },
});

describe("applied objects", () => {
  it("tells created, configured and unchanged apart by resourceVersion", () => {
    const after = obj("ConfigMap", "c", { resourceVersion: "7" });
    expect(classifyApply(undefined, after)).toBe("created");
    expect(classifyApply(obj("ConfigMap", "c", { resourceVersion: "7" }), after)).toBe("unchanged");
    expect(classifyApply(obj("ConfigMap", "c", { resourceVersion: "6" }), after)).toBe("unchanged");
    const changed = { ...after, data: { key: "new" } };
    expect(classifyApply(obj("ConfigMap", "c", { resourceVersion: "6" }), changed)).toBe("configured");
    // A status write by a controller moves resourceVersion without our apply changing anything.
    const pdbBefore = {
      ...obj("PodDisruptionBudget", "p", { resourceVersion: "3" }),
      status: { currentHealthy: 2 },
    };
    const pdbAfter = {
      ...obj("PodDisruptionBudget", "p", { resourceVersion: "9" }),
      status: { currentHealthy: 3 },
    };
    expect(classifyApply(pdbBefore, pdbAfter)).toBe("unchanged");
  });

  it("prunes what is no longer rendered, never the volume, its claim or foreign objects", () => {
    const live = [
      obj("ConfigMap", "keep"),
      obj("ConfigMap", "old"),
      obj("PersistentVolumeClaim", "registry-clouddrove-data"),
      obj("PersistentVolume", "registry-clouddrove-data-clouddrove"),
      {
        ...obj("Secret", "someone-elses"),
        metadata: { name: "someone-elses", namespace: "clouddrove", labels: {} },
      },
    ];
    const pruned = pruneCandidates(live, [obj("ConfigMap", "keep")]);
    expect(pruned.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/old"]);
  });

  it("names other field managers of spec and metadata, not status writers", () => {
    const live = obj("Deployment", "d", {
      managedFields: [
        { manager: "clouddrove", operation: "Apply" },
        { manager: "kubectl", operation: "Apply" },
        { manager: "kube-controller-manager", operation: "Update", subresource: "status" },
        { manager: "kubectl", operation: "Update" },
      ],
    });
    expect(foreignManagers(live)).toEqual(["kubectl"]);
    expect(foreignManagers(obj("Deployment", "e"))).toEqual([]);
  });

  it("compares objects without server bookkeeping", () => {
    const live = {
      ...obj("Service", "s", { resourceVersion: "9", uid: "u", managedFields: [{}], creationTimestamp: "t" }),
      status: { loadBalancer: {} },
    };
    expect(comparable(live)).toEqual(obj("Service", "s"));
  });
});
