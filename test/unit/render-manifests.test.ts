/** The registry objects, field by field, for several configurations: every part of the deployment the README lists. */
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/schema.js";
import { type KubeObject, names, renderManifests } from "../../src/core/render/index.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into plain JSON objects
type Any = any;

const EFS = "storage.efs.fileSystemId=fs-0123456789abcdef0";

async function render(config: Config) {
  const objects = await renderManifests(config, credentials, tls);
  const find = (kind: string, name?: string): Any => {
    const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    if (!found) throw new Error(`no ${kind} ${name ?? ""}`);
    return found;
  };
  const deployment = find("Deployment");
  const pod = deployment.spec.template.spec;
  const registry = pod.containers.find((c: Any) => c.name === "registry");
  const init = pod.initContainers[0];
  return { objects, find, deployment, pod, registry, init };
}

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");

describe("renderManifests with the defaults (efs)", async () => {
  const config = configWith(EFS);
  const { objects, find, deployment, pod, registry, init } = await render(config);

  it("returns the objects in apply order", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/clouddrove",
      "ServiceAccount/registry-clouddrove",
      "ConfigMap/registry-clouddrove-config",
      "Secret/registry-clouddrove-htpasswd",
      "Secret/registry-clouddrove-http-secret",
      "Secret/registry-clouddrove-pull",
      "Secret/registry-clouddrove-ca",
      "ConfigMap/registry-clouddrove-ca",
      "Secret/registry-clouddrove-tls",
      "PersistentVolume/registry-clouddrove-data-clouddrove",
      "PersistentVolumeClaim/registry-clouddrove-data",
      "Deployment/registry-clouddrove",
      "PodDisruptionBudget/registry-clouddrove",
      "Service/registry-clouddrove",
      "NetworkPolicy/clouddrove-default-deny",
      "NetworkPolicy/registry-clouddrove-ingress",
      "NetworkPolicy/registry-clouddrove-backup-egress",
    ]);
  });

  it("1. labels every object and puts every namespaced one in the namespace", () => {
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": "registry",
        "app.kubernetes.io/instance": "clouddrove",
        "app.kubernetes.io/managed-by": "clouddrove",
      });
      const clusterScoped = object.kind === "Namespace" || object.kind === "PersistentVolume";
      expect(object.metadata.namespace).toBe(clusterScoped ? undefined : "clouddrove");
    }
  });

  it("2. runs 3 replicas of registry:2.8.2, one per node, spread over zones, replaced one at a time", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(registry.image).toBe("registry:2.8.2");
    expect(deployment.spec.selector.matchLabels).toEqual(names.selectorLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(names.selectorLabels);
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: names.selectorLabels } },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: names.selectorLabels },
      },
    ]);
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
  });

  it("3. prepares /var/lib/clouddrove on the volume with the pinned Alpine image before the registry", () => {
    expect(init.image).toBe(
      "alpine:3.24.2@sha256:3cf95fe0816180395592b8373f3ec60663f076127617bbacb4eacf9667afe2e9",
    );
    expect(init.volumeMounts).toEqual([{ name: "data", mountPath: "/var/lib/clouddrove" }]);
    const script = init.args.join("\n");
    // The script itself runs for real in test/integration/registry-binary.test.ts.
    expect(script).toContain("data=/var/lib/clouddrove\n");
    expect(script).toContain(`owner=${names.registryUser.uid}:${names.registryUser.gid}\n`);
    expect(init.command).toEqual(["/bin/sh", "-c"]);
    expect(registry.securityContext.runAsUser).toBe(1000);
    expect(registry.securityContext.runAsGroup).toBe(1000);
  });

  it("4. binds a 50Gi ReadWriteMany EFS volume to the claim by name, mounted at /var/lib/clouddrove", () => {
    const volume = find("PersistentVolume");
    const claim = find("PersistentVolumeClaim");
    expect(volume.spec.capacity.storage).toBe("50Gi");
    expect(volume.spec.accessModes).toEqual(["ReadWriteMany"]);
    expect(volume.spec.persistentVolumeReclaimPolicy).toBe("Retain");
    expect(volume.spec.csi).toEqual({ driver: "efs.csi.aws.com", volumeHandle: "fs-0123456789abcdef0" });
    expect(volume.spec.nfs).toBeUndefined();
    expect(volume.spec.claimRef).toMatchObject({ namespace: "clouddrove", name: "registry-clouddrove-data" });
    expect(claim.spec.volumeName).toBe(volume.metadata.name);
    expect(claim.spec.accessModes).toEqual(["ReadWriteMany"]);
    expect(claim.spec.resources.requests.storage).toBe("50Gi");
    expect(claim.spec.storageClassName).toBe("");
    expect(volume.spec.storageClassName).toBe("");
    expect(pod.volumes).toContainEqual({
      name: "data",
      persistentVolumeClaim: { claimName: claim.metadata.name },
    });
    expect(registry.volumeMounts).toContainEqual({ name: "data", mountPath: "/var/lib/clouddrove" });
  });

  it("5. requests 1Gi and 250m, limits memory to 2Gi", () => {
    expect(registry.resources).toEqual({
      requests: { cpu: "250m", memory: "1Gi" },
      limits: { memory: "2Gi" },
    });
  });

  it("6. probes readiness and liveness with GET / over HTTPS (no credentials needed)", () => {
    expect(registry.ports).toEqual([{ name: "registry", containerPort: 5000, protocol: "TCP" }]);
    expect(registry.readinessProbe).toMatchObject({
      httpGet: { path: "/", port: "registry", scheme: "HTTPS" },
      initialDelaySeconds: 15,
      periodSeconds: 30,
    });
    expect(registry.readinessProbe.tcpSocket).toBeUndefined();
    expect(registry.livenessProbe.httpGet).toEqual({ path: "/", port: "registry", scheme: "HTTPS" });
  });

  it("7. exposes port 5000 through an internal NLB with client-IP affinity and no source ranges", () => {
    const service = find("Service");
    expect(service.spec.type).toBe("LoadBalancer");
    expect(service.spec.ports).toEqual([
      { name: "registry", port: 5000, targetPort: "registry", protocol: "TCP" },
    ]);
    expect(service.spec.selector).toEqual(names.selectorLabels);
    expect(service.spec.sessionAffinity).toBe("ClientIP");
    expect(service.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(service.metadata.annotations).toEqual({
      "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
      "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    });
  });

  it("8. denies everything by default, admits TCP 5000 from the namespace, lets backups out to DNS and HTTPS", () => {
    const deny = find("NetworkPolicy", "clouddrove-default-deny");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const ingress = find("NetworkPolicy", "registry-clouddrove-ingress");
    expect(ingress.spec.podSelector.matchLabels).toEqual(names.selectorLabels);
    expect(ingress.spec.ingress).toEqual([
      { from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 5000 }] },
    ]);
    const backup = find("NetworkPolicy", "registry-clouddrove-backup-egress");
    expect(backup.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/component": "backup" });
    expect(backup.spec.policyTypes).toEqual(["Egress"]);
    expect(backup.spec.egress).toEqual([
      {
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      { ports: [{ protocol: "TCP", port: 443 }] },
    ]);
  });

  it("8. keeps the debug port 5001 off the Service, the container ports and every allow rule", () => {
    const text = JSON.stringify(objects.filter((o) => o.kind !== "ConfigMap"));
    expect(text).not.toContain("5001");
  });

  it("9. mounts the registry config where the image reads it, with GC flags that spare multi-arch images", () => {
    const configMap = find("ConfigMap");
    expect(Object.keys(configMap.data)).toEqual(["config.yml", "garbage-collect-flags"]);
    expect(configMap.data["garbage-collect-flags"]).toBe("--dry-run=false --delete-untagged=false");
    expect(configMap.data["garbage-collect-flags"]).not.toMatch(/--delete-untagged(?!=false)|(^|\s)-m\b/);
    expect(registry.args).toEqual(["serve", "/etc/docker/registry/config.yml"]);
    expect(registry.volumeMounts).toContainEqual({
      name: "config",
      mountPath: "/etc/docker/registry",
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: "config",
      configMap: { name: configMap.metadata.name, items: [{ key: "config.yml", path: "config.yml" }] },
    });
  });

  it("10. holds the htpasswd line, the shared http secret and the pull credentials in Secrets", () => {
    const htpasswd = find("Secret", "registry-clouddrove-htpasswd");
    expect(decode(htpasswd.data.htpasswd)).toBe(`${credentials.htpasswd}\n`);
    expect(htpasswd.stringData).toBeUndefined();
    expect(pod.volumes).toContainEqual({
      name: "auth",
      secret: {
        secretName: htpasswd.metadata.name,
        defaultMode: 0o444,
        items: [{ key: "htpasswd", path: "htpasswd" }],
      },
    });
    expect(registry.volumeMounts).toContainEqual({
      name: "auth",
      mountPath: "/etc/clouddrove/auth",
      readOnly: true,
    });

    const http = find("Secret", "registry-clouddrove-http-secret");
    expect(decode(http.data["http-secret"])).toBe(credentials.httpSecret);
    expect(registry.env).toEqual([
      {
        name: "REGISTRY_HTTP_SECRET",
        valueFrom: { secretKeyRef: { name: http.metadata.name, key: "http-secret" } },
      },
      // log.fields.namespace, from the pod itself: config.yml stays the same text in every namespace.
      { name: "REGISTRY_LOG_FIELDS_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ]);

    const pull = find("Secret", "registry-clouddrove-pull");
    expect(pull.type).toBe("kubernetes.io/dockerconfigjson");
    const dockerConfig = JSON.parse(decode(pull.data[".dockerconfigjson"]));
    expect(dockerConfig).toEqual({
      auths: {
        "registry-clouddrove.clouddrove.svc:5000": {
          username: "clouddrove",
          password: "pull-password",
          auth: Buffer.from("clouddrove:pull-password").toString("base64"),
        },
      },
    });
  });

  it("11. annotates the claim and the volume with the EFS backup plan, and budgets one disruption", () => {
    for (const object of [find("PersistentVolume"), find("PersistentVolumeClaim")]) {
      const annotations = object.metadata.annotations;
      expect(annotations["clouddrove.io/backup-method"]).toBe("s3-archive,aws-backup");
      expect(annotations["clouddrove.io/backup-notes"]).toContain("EFS has no CSI snapshots");
      expect(annotations["clouddrove.io/backup-notes"]).toContain("clouddrove backup now");
      expect(annotations["clouddrove.io/backup-notes"]).toContain("AWS Backup");
      expect(annotations["clouddrove.io/backup-notes"]).toContain("fs-0123456789abcdef0");
      expect(annotations["clouddrove.io/backup-copy-command"]).toBe(
        `kubectl -n clouddrove cp -c registry "$(kubectl -n clouddrove get pod -l ${names.registryPodSelector} -o jsonpath='{.items[0].metadata.name}')":/var/lib/clouddrove ./clouddrove-data`,
      );
    }
    const budget = find("PodDisruptionBudget");
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(budget.spec.minAvailable).toBeUndefined();
    expect(budget.spec.selector.matchLabels).toEqual(names.selectorLabels);
  });

  it("12. drops privileges everywhere and mounts no emptyDir and no service account token", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find("ServiceAccount").automountServiceAccountToken).toBe(false);
    expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(registry.securityContext).toEqual({
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(init.securityContext).toMatchObject({
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["CHOWN"] },
    });
    expect(JSON.stringify(pod)).not.toContain("emptyDir");
  });
});

describe("renderManifests with other settings", () => {
  it("uses NFS server and path instead of the EFS driver, and describes the NFS backup plan", async () => {
    const { find } = await render(
      configWith("storage.type=nfs", "storage.nfs.server=nfs.internal", "storage.nfs.path=/exports/reg"),
    );
    const volume = find("PersistentVolume");
    expect(volume.spec.nfs).toEqual({ server: "nfs.internal", path: "/exports/reg" });
    expect(volume.spec.csi).toBeUndefined();
    expect(volume.spec.accessModes).toEqual(["ReadWriteMany"]);
    for (const object of [volume, find("PersistentVolumeClaim")]) {
      expect(object.metadata.annotations["clouddrove.io/backup-method"]).toBe("s3-archive");
      expect(object.metadata.annotations["clouddrove.io/backup-notes"]).toContain("NFS");
      expect(object.metadata.annotations["clouddrove.io/backup-notes"]).not.toContain("AWS Backup");
    }
  });

  it("admits the configured CIDRs at the load balancer and in the NetworkPolicy", async () => {
    const { find } = await render(configWith(EFS, "network.allowedCidrs=203.0.113.0/24,2001:db8::/32"));
    expect(find("Service").spec.loadBalancerSourceRanges).toEqual(["203.0.113.0/24", "2001:db8::/32"]);
    expect(find("NetworkPolicy", "registry-clouddrove-ingress").spec.ingress).toEqual([
      {
        from: [
          { podSelector: {} },
          { ipBlock: { cidr: "203.0.113.0/24" } },
          { ipBlock: { cidr: "2001:db8::/32" } },
        ],
        ports: [{ protocol: "TCP", port: 5000 }],
      },
    ]);
  });

  it("builds an internet-facing classic ELB with a long idle timeout", async () => {
    const { find } = await render(
      configWith(EFS, "network.loadBalancer=clb", "network.scheme=internet-facing"),
    );
    expect(find("Service").metadata.annotations).toEqual({
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
      "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": "3600",
    });
  });

  it("lets the backup pods reach the EKS Pod Identity agent only when that is the credential source", async () => {
    const egressOf = async (credentialsKind: string) =>
      (await render(configWith(EFS, `backup.credentials=${credentialsKind}`))).find(
        "NetworkPolicy",
        "registry-clouddrove-backup-egress",
      ).spec.egress;
    expect(await egressOf("pod-identity")).toContainEqual({
      to: [{ ipBlock: { cidr: "169.254.170.23/32" } }, { ipBlock: { cidr: "fd00:ec2::23/128" } }],
      ports: [{ protocol: "TCP", port: 80 }],
    });
    expect(await egressOf("irsa")).toHaveLength(2);
  });

  it("follows replicas, sizes, images, resources and the namespace everywhere", async () => {
    const { objects, find, deployment, registry, init } = await render(
      configWith(
        EFS,
        "namespace=team-registry",
        "registry.replicas=5",
        "storage.size=200Gi",
        "registry.image=mirror.example.com/library/registry",
        "registry.version=2.8.3",
        "registry.initImage=alpine:3.21.0",
        "registry.cpuRequest=1",
        "registry.memoryRequest=2Gi",
        "registry.memoryLimit=4Gi",
        "backup.bucket=registry-backups",
      ),
    );
    expect(deployment.spec.replicas).toBe(5);
    expect(registry.image).toBe("mirror.example.com/library/registry:2.8.3");
    expect(init.image).toBe("alpine:3.21.0");
    expect(registry.resources).toEqual({ requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi" } });
    expect(find("Namespace").metadata.name).toBe("team-registry");
    for (const object of objects) {
      if (object.kind !== "Namespace" && object.kind !== "PersistentVolume") {
        expect(object.metadata.namespace).toBe("team-registry");
      }
    }
    const volume = find("PersistentVolume");
    expect(volume.metadata.name).toBe("registry-clouddrove-data-team-registry");
    expect(volume.spec.capacity.storage).toBe("200Gi");
    expect(volume.spec.claimRef.namespace).toBe("team-registry");
    const claim = find("PersistentVolumeClaim");
    expect(claim.spec.resources.requests.storage).toBe("200Gi");
    expect(claim.spec.volumeName).toBe("registry-clouddrove-data-team-registry");
    expect(claim.metadata.annotations["clouddrove.io/backup-copy-command"]).toContain(
      "kubectl -n team-registry cp",
    );
    expect(claim.metadata.annotations["clouddrove.io/backup-notes"]).toContain(
      "s3://registry-backups/clouddrove/",
    );
    const pull = JSON.parse(decode(find("Secret", "registry-clouddrove-pull").data[".dockerconfigjson"]));
    expect(Object.keys(pull.auths)).toEqual(["registry-clouddrove.team-registry.svc:5000"]);
  });

  it("changes the pod template's config digest when the htpasswd line changes, and only then", async () => {
    const digest = (objects: KubeObject[]) =>
      (objects.find((o) => o.kind === "Deployment") as Any).spec.template.metadata.annotations[
        "clouddrove.io/config-sha256"
      ];
    const config = configWith(EFS);
    const first = digest(await renderManifests(config, credentials, tls));
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(await renderManifests(config, { ...credentials, password: "other" }, tls))).toBe(first);
    const rotated = { ...credentials, htpasswd: `clouddrove:${bcrypt.hashSync("new", 4)}` };
    expect(digest(await renderManifests(config, rotated, tls))).not.toBe(first);
  });
});
