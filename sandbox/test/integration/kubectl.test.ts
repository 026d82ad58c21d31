/**
 * The real kubectl against a started sandbox (controllers off: the objects a controller would make are
 * created directly in the store).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ONE_AT_A_TIME, registryDeployment, registryManifest } from "../support/registry-objects.js";
import { addNodes, addRunningPod, startTestSandbox, type TestSandbox } from "../support/sandbox.js";

const deploymentYaml = (replicas: number) =>
  registryManifest(
    registryDeployment({
      metadata: { namespace: "default", labels: { app: "registry" } },
      replicas,
      strategy: ONE_AT_A_TIME,
      container: { ports: [{ containerPort: 5000 }] },
    }),
  );

describe("kubectl against the sandbox", () => {
  let t: TestSandbox;
  let nodes: string[];
  let manifest: string;

  beforeAll(async () => {
    t = await startTestSandbox();
    nodes = addNodes(t.sandbox.store);
    manifest = join(t.dir, "registry.yaml");
    writeFileSync(manifest, deploymentYaml(3));
  });

  afterAll(async () => {
    await t?.stop();
  });

  it("lists three nodes in three zones with their labels", async () => {
    const result = await t.kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone");
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+ZONE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).at(-1))).toEqual([
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c",
    ]);
    expect(lines[1]).toContain("Ready");
    expect(lines[1]).toContain("v1.33.5-eks-1a2b3c4");
  });

  it("applies a Deployment and a PDB server-side, and a second apply changes nothing", async () => {
    const first = await t.kubectl("apply", "--server-side", "-f", manifest);
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("deployment.apps/registry serverside-applied");
    expect(first.stdout).toContain("poddisruptionbudget.policy/registry serverside-applied");
    const stored = t.sandbox.store.get("Deployment", "default", "registry")!;
    expect(stored.spec.replicas).toBe(3);
    expect(
      stored.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]
        .topologyKey,
    ).toBe("kubernetes.io/hostname");
    expect(stored.metadata.managedFields?.[0]).toMatchObject({ manager: "kubectl", operation: "Apply" });
    const again = await t.kubectl("apply", "--server-side", "-f", manifest);
    expect(again.exitCode).toBe(0);
    expect(t.sandbox.store.get("Deployment", "default", "registry")!.metadata.resourceVersion).toBe(
      stored.metadata.resourceVersion,
    );
  });

  it("reports a conflict when another manager applies a different value, and --force-conflicts takes it", async () => {
    const other = join(t.dir, "registry-5.yaml");
    writeFileSync(other, deploymentYaml(5));
    const conflict = await t.kubectl("apply", "--server-side", "--field-manager=ops", "-f", other);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas',
    );
    expect(t.sandbox.store.get("Deployment", "default", "registry")!.spec.replicas).toBe(3);
    const forced = await t.kubectl(
      "apply",
      "--server-side",
      "--field-manager=ops",
      "--force-conflicts",
      "-f",
      other,
    );
    expect(forced.exitCode).toBe(0);
    const stored = t.sandbox.store.get("Deployment", "default", "registry")!;
    expect(stored.spec.replicas).toBe(5);
    expect(stored.metadata.generation).toBe(2);
  });

  it("rejects unknown fields (kubectl validates strictly through the server)", async () => {
    const bad = join(t.dir, "bad.yaml");
    writeFileSync(
      bad,
      deploymentYaml(3).split("---")[0]!.replace("replicas: 3", "replicas: 3\n  replicaz: 4"),
    );
    const result = await t.kubectl("apply", "--server-side", "-f", bad);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(".spec.replicaz: field not declared in schema");
  });

  it("selects pods by label and by field (spec.nodeName)", async () => {
    const store = t.sandbox.store;
    addRunningPod(store, "web-a", { node: nodes[0]!, labels: { app: "web" } });
    addRunningPod(store, "web-b", { node: nodes[1]!, labels: { app: "web" } });
    addRunningPod(store, "db-a", { node: nodes[0]!, labels: { app: "db" } });
    const byLabel = await t.kubectl("get", "pods", "-l", "app=web", "-o", "name");
    expect(byLabel.stdout.trim().split("\n")).toEqual(["pod/web-a", "pod/web-b"]);
    const byField = await t.kubectl(
      "get",
      "pods",
      "-A",
      "--field-selector",
      `spec.nodeName=${nodes[0]}`,
      "-o",
      "name",
    );
    expect(byField.stdout.trim().split("\n")).toEqual(["pod/db-a", "pod/web-a"]);
    const table = await t.kubectl("get", "pods", "-l", "app in (web,db),app!=db");
    expect(table.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(table.stdout).toMatch(/web-a\s+1\/1\s+Running\s+0/);
    const unsupported = await t.kubectl("get", "pods", "--field-selector", "spec.image=x");
    expect(unsupported.exitCode).toBe(1);
    expect(unsupported.stderr).toContain("field label not supported: spec.image");
  });

  it("cascades a delete to the ReplicaSet and its pods", async () => {
    const store = t.sandbox.store;
    const deployment = store.get("Deployment", "default", "registry")!;
    const replicaSet = store.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "registry-6d4b8c",
        namespace: "default",
        labels: { app: "registry" },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "registry",
            uid: deployment.metadata.uid!,
            controller: true,
          },
        ],
      },
      spec: { replicas: 1, selector: deployment.spec.selector, template: deployment.spec.template },
    });
    addRunningPod(store, "registry-6d4b8c-x1", {
      node: nodes[2]!,
      labels: { app: "registry" },
      owner: replicaSet,
    });
    const result = await t.kubectl("delete", "deployment", "registry");
    expect(result.stdout).toContain('deployment.apps "registry" deleted');
    expect(store.get("Deployment", "default", "registry")).toBeUndefined();
    expect(store.get("ReplicaSet", "default", "registry-6d4b8c")).toBeUndefined();
    // A bound pod is deleted gracefully: it waits for its kubelet (the controllers) to finish it.
    expect(store.get("Pod", "default", "registry-6d4b8c-x1")?.metadata.deletionTimestamp).toBeDefined();
  });

  it("cordons and uncordons a node with a strategic merge patch", async () => {
    const cordon = await t.kubectl("cordon", nodes[0]!);
    expect(cordon.stdout).toContain(`node/${nodes[0]} cordoned`);
    expect(t.sandbox.store.get("Node", undefined, nodes[0]!)!.spec.unschedulable).toBe(true);
    const listed = await t.kubectl("get", "node", nodes[0]!);
    expect(listed.stdout).toContain("Ready,SchedulingDisabled");
    await t.kubectl("uncordon", nodes[0]!);
    expect(t.sandbox.store.get("Node", undefined, nodes[0]!)!.spec.unschedulable).toBeUndefined();
  });

  it("scales, sets an image and restarts a rollout with the patches kubectl sends", async () => {
    const web = join(t.dir, "web.json");
    const generated = await t.kubectl(
      "create",
      "deployment",
      "web",
      "--image=nginx:1.27",
      "--dry-run=client",
      "-o",
      "json",
    );
    writeFileSync(web, generated.stdout);
    expect((await t.kubectl("create", "-f", web)).exitCode).toBe(0);
    expect((await t.kubectl("scale", "deployment/web", "--replicas=4")).exitCode).toBe(0);
    expect((await t.kubectl("set", "image", "deployment/web", "nginx=nginx:1.28")).exitCode).toBe(0);
    expect((await t.kubectl("rollout", "restart", "deployment/web")).exitCode).toBe(0);
    const stored = t.sandbox.store.get("Deployment", "default", "web")!;
    expect(stored.spec.replicas).toBe(4);
    expect(stored.spec.template.spec.containers[0].image).toBe("nginx:1.28");
    expect(stored.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toBeDefined();
    expect(stored.metadata.generation).toBe(4);
  });

  it("says plainly that protobuf bodies (kubectl create GENERATOR) are not decoded", async () => {
    const result = await t.kubectl("create", "namespace", "team");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("accepts JSON and YAML bodies only");
  });

  it("answers 401 to a wrong token", async () => {
    const wrong = join(t.dir, "wrong-kubeconfig");
    writeFileSync(wrong, t.sandbox.kubeconfig().replace(t.sandbox.token, "not-the-token"));
    const result = await t.kubectl("--kubeconfig", wrong, "get", "nodes");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("You must be logged in to the server");
  });
});
