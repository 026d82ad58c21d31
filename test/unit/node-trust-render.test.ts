/**
 * The node-trust objects as deploy renders them for the private-ca mode (and the template as it is):
 * Kubernetes schemas, the privileged namespace of their own, the one hostPath (containerd's certs.d), the
 * pinned image, and the CA, addresses and checksum filled in.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Namespace } from "kubernetes-models/v1";
import { afterAll, describe, expect, it } from "vitest";
import { makeTestCa } from "../../sandbox/test/support/test-ca.js";
import { parseCaCertificate } from "../../src/core/trust/ca.js";
import { renderNodeTrust } from "../../src/core/trust/node-trust.js";
import { readNodeTrustTemplates } from "../../src/steps/trust/node-trust.js";
import { type KindSchema, schemaProblems } from "../support/kube-schema.js";

const KINDS: Record<string, KindSchema> = {
  Namespace: { schema: Namespace, client: "V1Namespace" },
  ConfigMap: { schema: ConfigMap, client: "V1ConfigMap" },
  DaemonSet: { schema: DaemonSet, client: "V1DaemonSet" },
};

const dir = mkdtempSync(join(tmpdir(), "clouddrove-node-trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are plain JSON
type Json = any;

async function rendered() {
  const testCa = makeTestCa(dir);
  const ca = parseCaCertificate(testCa.certPem, "test CA");
  const templates = await readNodeTrustTemplates();
  const objects = renderNodeTrust(templates, {
    ca,
    addresses: [
      { host: "r.elb.amazonaws.com", port: 5000 },
      { host: "203.0.113.7", port: 5000 },
    ],
    image: "alpine:3.20.3",
  });
  return { objects: objects as Json[], ca, templates };
}

describe("the node-trust objects", () => {
  it("pass the Kubernetes schemas, rendered and as the template is", async () => {
    const { objects, templates } = await rendered();
    expect(objects.map((o) => o.kind)).toEqual(["Namespace", "ConfigMap", "DaemonSet"]);
    expect(objects.flatMap((o) => schemaProblems(o, KINDS))).toEqual([]);
    const { parseAllDocuments } = await import("yaml");
    const raw = parseAllDocuments(templates.objects, { version: "1.1" }).map((d) => d.toJS());
    expect(raw.flatMap((o) => schemaProblems(o, KINDS))).toEqual([]);
  });

  it("live in a namespace of their own at Pod Security privileged, apart from the registry's", async () => {
    const { objects } = await rendered();
    const [namespace, configMap, daemonSet] = objects;
    expect(namespace.metadata.name).toBe("clouddrove-node-trust");
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(configMap.metadata.namespace).toBe("clouddrove-node-trust");
    expect(daemonSet.metadata.namespace).toBe("clouddrove-node-trust");
  });

  it("mount only containerd's certs.d from the node, as root without capabilities, on every node", async () => {
    const { objects } = await rendered();
    const pod = objects[2].spec.template.spec;
    const hostPaths = pod.volumes.filter((v: Json) => v.hostPath).map((v: Json) => v.hostPath);
    expect(hostPaths).toEqual([{ path: "/etc/containerd/certs.d", type: "DirectoryOrCreate" }]);
    const [container] = pod.containers;
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.securityContext.privileged).toBeUndefined();
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("carry the CA, every address, the pinned image and the CA's checksum", async () => {
    const { objects, ca, templates } = await rendered();
    const [, configMap, daemonSet] = objects;
    expect(configMap.data).toEqual({ "ca.crt": ca.pem, "install-ca.sh": templates.script });
    const container = daemonSet.spec.template.spec.containers[0];
    expect(container.image).toBe("alpine:3.20.3");
    expect(container.env.find((e: Json) => e.name === "REGISTRIES").value).toBe(
      "r.elb.amazonaws.com:5000 203.0.113.7:5000",
    );
    expect(daemonSet.spec.template.metadata.annotations["clouddrove.io/ca-sha256"]).toBe(ca.sha256);
    expect(JSON.stringify(objects)).not.toContain("PRIVATE KEY");
  });
});
