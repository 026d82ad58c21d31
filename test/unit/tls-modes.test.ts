/**
 * tls.mode secret and acm: the settings and their contradictions, the objects rendered in each mode,
 * the checks of a user's Secret and of an ACM certificate, and RFC 6125 name matching.
 */
import { createHash } from "node:crypto";
import { rootCertificates } from "node:tls";
import { Deployment } from "kubernetes-models/apps/v1";
import { ConfigMap, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { resolveConfig, type Source } from "../../src/config/resolve.js";
import { requiredSettings } from "../../src/config/schema.js";
import { nextInitQuestion } from "../../src/core/init-plan.js";
import { renderManifests } from "../../src/core/render/index.js";
import {
  ACM_ANNOTATIONS,
  CERT_MANAGER_SECRET,
  certManagerCertificate,
  RELATIVE_URLS_ENV,
} from "../../src/core/render/tls-modes.js";
import { acmCertificateProblems, loadBalancerRecord, recordText } from "../../src/core/tls/acm.js";
import { certificateReady, notReadyReason } from "../../src/core/tls/cert-manager.js";
import { createCertificateAuthority, issueServerCertificate } from "../../src/core/tls/certificates.js";
import { nameMatches } from "../../src/core/tls/name-match.js";
import {
  isPubliclyTrusted,
  privateIssuer,
  servedSecretProblems,
  servedTrust,
} from "../../src/core/tls/served-secret.js";
import { registryUsage, registryUsageText } from "../../src/core/tls/usage.js";
import { usageError } from "../support/errors.js";
import { schemaProblems } from "../support/kube-schema.js";
import { configWith, credentials, tls } from "../support/render-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read deep into plain JSON objects
type Any = any;

const EFS = "storage.efs.fileSystemId=fs-0123456789abcdef0";
const ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f";
const DAY = 86_400_000;
const now = new Date("2026-12-06T12:00:00Z");

const ca = await createCertificateAuthority("test issuer", now);
const served = await issueServerCertificate(ca, { dns: ["registry.example.com"], ips: [] }, now, 90);

function parts(objects: Any[]) {
  const find = (kind: string, name: string): Any =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  const deployment = find("Deployment", "registry-clouddrove");
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c: Any) => c.name === "registry");
  return { find, deployment, pod, container };
}

/** What deploy would ask for (or exit 2 naming): the required settings nobody supplied. */
function missing(...set: string[]): string[] {
  const { config, values } = resolveConfig({ set: [EFS, ...set] });
  return requiredSettings(config, "deploy").filter((key) => !values.has(key));
}

describe("settings of the modes", () => {
  it("accepts secret with a Secret or an issuer, and acm with its ARN and zone", () => {
    const a = configWith(EFS, "tls.mode=secret", "tls.secretName=registry-tls");
    expect(a.tls).toMatchObject({ mode: "secret", secretName: "registry-tls" });
    const b = configWith(
      EFS,
      "tls.mode=secret",
      "tls.certManagerIssuer=letsencrypt,kind=ClusterIssuer",
      "tls.hostname=registry.example.com",
    );
    expect(b.tls.certManagerIssuer).toBe("letsencrypt,kind=ClusterIssuer");
    const c = configWith(
      EFS,
      "tls.mode=acm",
      `tls.certificateArn=${ARN}`,
      "tls.hostedZoneId=Z0123456789ABCDEFGHIJ",
      "tls.hostname=registry.example.com",
      "cluster.region=eu-west-1",
    );
    expect(c.tls.hostedZoneId).toBe("Z0123456789ABCDEFGHIJ");
    expect(
      missing(
        "tls.mode=acm",
        `tls.certificateArn=${ARN}`,
        "tls.hostname=registry.example.com",
        "cluster.region=eu-west-1",
      ),
    ).toEqual([]);
  });

  it("refuses values that are not what they name, with an example (exit 2)", () => {
    expect(
      usageError(() => configWith("tls.certificateArn=arn:aws:iam::123456789012:role/x")).message,
    ).toContain("ACM certificate ARN such as");
    expect(usageError(() => configWith("tls.hostedZoneId=/hostedzone/Z1")).message).toContain(
      "hosted zone id",
    );
    expect(usageError(() => configWith("tls.certManagerIssuer=letsencrypt,kind=Other")).message).toContain(
      "kind=ClusterIssuer",
    );
    expect(usageError(() => configWith("tls.secretName=Registry_TLS")).message).toContain(
      "Kubernetes object name",
    );
  });

  it("refuses contradictions: both a Secret and an issuer; an issuer without a host name; a mode's key in another mode", () => {
    const both = usageError(() =>
      configWith(
        "tls.mode=secret",
        "tls.secretName=a",
        "tls.certManagerIssuer=b",
        "tls.hostname=r.example.com",
      ),
    );
    expect(both.message).toContain("contradict each other");
    const noHost = usageError(() => configWith("tls.mode=secret", "tls.certManagerIssuer=b"));
    expect(noHost.message).toContain("needs tls.hostname");
    const elsewhere = usageError(() => configWith(`tls.certificateArn=${ARN}`));
    expect(elsewhere.message).toContain("tls.mode is private-ca: it is used only with tls.mode acm");
  });

  it("requires what each mode cannot do without (deploy asks, or exits 2 naming the flags)", () => {
    expect(missing("tls.mode=acm")).toEqual(["tls.hostname", "tls.certificateArn", "cluster.region"]);
    expect(missing("tls.mode=secret")).toEqual(["tls.secretName"]);
    expect(missing("tls.mode=secret", "tls.secretName=x")).toEqual([]);
  });
});

describe("tls.mode secret: the render", async () => {
  const config = configWith(EFS, "tls.mode=secret", "tls.secretName=registry-tls");
  const objects = await renderManifests(config, credentials, undefined, {
    secretName: "registry-tls",
    certificate: served.certificate,
    privateCa: ca.certificate,
  });
  const { find, deployment, pod, container } = parts(objects);

  it("mounts the user's Secret, serves TLS, and renders neither clouddrove's CA nor its server certificate", () => {
    expect(pod.volumes.find((v: Any) => v.name === "tls").secret.secretName).toBe("registry-tls");
    expect(container.livenessProbe.httpGet.scheme).toBe("HTTPS");
    expect(find("Secret", "registry-clouddrove-ca")).toBeUndefined();
    expect(find("Secret", "registry-clouddrove-tls")).toBeUndefined();
    expect(find("ConfigMap", "registry-clouddrove-config").data["config.yml"]).toContain(
      "certificate: /etc/clouddrove/tls/tls.crt",
    );
  });

  it("puts the certificate's digest in the pod template (a renewed one rolls the pods) and publishes its private issuer", () => {
    expect(deployment.spec.template.metadata.annotations["clouddrove.io/certificate-sha256"]).toBe(
      createHash("sha256").update(served.certificate).digest("hex"),
    );
    expect(find("ConfigMap", "registry-clouddrove-ca").data["ca.crt"]).toBe(ca.certificate);
  });

  it("publishes no CA for a publicly trusted certificate", async () => {
    const rendered = await renderManifests(config, credentials, undefined, {
      secretName: "registry-tls",
      certificate: served.certificate,
    });
    expect(parts(rendered).find("ConfigMap", "registry-clouddrove-ca").data["ca.crt"]).toBe("");
  });

  it("passes the Kubernetes schemas", () => {
    const kinds = {
      Deployment: { schema: Deployment, client: "V1Deployment" },
      ConfigMap: { schema: ConfigMap, client: "V1ConfigMap" },
      Service: { schema: Service, client: "V1Service" },
    } as const;
    for (const object of objects.filter((o) => o.kind in kinds))
      expect(schemaProblems(object, kinds)).toEqual([]);
  });

  it("with an issuer: cert-manager's Secret, and a Certificate for the host name from the issuer given", () => {
    const issued = configWith(
      EFS,
      "tls.mode=secret",
      "tls.certManagerIssuer=letsencrypt,kind=ClusterIssuer",
      "tls.hostname=registry.example.com",
    );
    expect(certManagerCertificate(issued)).toEqual({
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: {
        name: "registry-clouddrove",
        namespace: "clouddrove",
        labels: expect.objectContaining({ "app.kubernetes.io/managed-by": "clouddrove" }),
      },
      spec: {
        secretName: CERT_MANAGER_SECRET,
        dnsNames: ["registry.example.com"],
        issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt" },
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        usages: ["server auth", "digital signature"],
      },
    });
    const plain = configWith(
      EFS,
      "tls.mode=secret",
      "tls.certManagerIssuer=ca-issuer",
      "tls.hostname=registry.example.com",
    );
    expect((certManagerCertificate(plain).spec as Any).issuerRef.kind).toBe("Issuer");
  });

  it("a cert-manager Certificate is Ready only by a condition of its current generation", () => {
    const ready = {
      metadata: { generation: 2 },
      status: { conditions: [{ type: "Ready", status: "True", observedGeneration: 1 }] },
    };
    expect(certificateReady(ready, 2)).toBe(false);
    expect(certificateReady(ready, 1)).toBe(true);
    const failing = {
      status: {
        conditions: [
          { type: "Ready", status: "False", reason: "DoesNotExist", message: "Issuer x not found" },
        ],
      },
    };
    expect(certificateReady(failing)).toBe(false);
    expect(notReadyReason(failing)).toBe("DoesNotExist: Issuer x not found");
  });
});

describe("tls.mode acm: the render", async () => {
  const config = configWith(
    EFS,
    "tls.mode=acm",
    `tls.certificateArn=${ARN}`,
    "tls.hostname=registry.example.com",
    "cluster.region=eu-west-1",
  );
  const objects = await renderManifests(config, credentials);
  const { find, pod, container } = parts(objects);
  const service = find("Service", "registry-clouddrove");

  it("annotates the Service for the NLB's TLS listener on 5000 with the certificate, TCP to the pods", () => {
    expect(service.metadata.annotations).toMatchObject({
      "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": ARN,
      "service.beta.kubernetes.io/aws-load-balancer-ssl-ports": "5000",
      "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
      "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    });
    expect(service.spec.ports).toEqual([
      { name: "registry", port: 5000, targetPort: "registry", protocol: "TCP" },
    ]);
  });

  it("runs the registry on plain HTTP with relative upload URLs, and renders no certificate", () => {
    expect(container.livenessProbe.httpGet.scheme).toBe("HTTP");
    expect(container.env).toContainEqual({ name: RELATIVE_URLS_ENV, value: "true" });
    expect(pod.volumes.some((v: Any) => v.name === "tls")).toBe(false);
    expect(find("ConfigMap", "registry-clouddrove-config").data["config.yml"]).not.toContain("tls:");
    expect(objects.filter((o) => /registry-clouddrove-(ca|tls)$/.test(o.metadata.name))).toEqual([]);
  });

  it("another mode leaves none of acm's annotations or its variable", async () => {
    const other = parts(await renderManifests(configWith(EFS), credentials, tls));
    const annotations = other.find("Service", "registry-clouddrove").metadata.annotations;
    for (const key of Object.values(ACM_ANNOTATIONS)) expect(annotations[key]).toBeUndefined();
    expect(other.container.env.some((e: Any) => e.name === RELATIVE_URLS_ENV)).toBe(false);
  });
});

describe("RFC 6125 names", () => {
  it("a wildcard covers exactly one left-most label", () => {
    expect(nameMatches("*.example.com", "registry.example.com")).toBe(true);
    expect(nameMatches("*.example.com", "REGISTRY.Example.com")).toBe(true);
    expect(nameMatches("*.example.com", "example.com")).toBe(false);
    expect(nameMatches("*.example.com", "a.registry.example.com")).toBe(false);
    expect(nameMatches("*.com", "example.com")).toBe(false);
    expect(nameMatches("reg*.example.com", "registry.example.com")).toBe(false);
    expect(nameMatches("registry.example.com", "registry.example.com")).toBe(true);
  });
});

describe("a user's Secret", () => {
  const content = {
    type: "kubernetes.io/tls",
    certificate: served.certificate,
    key: served.key,
    caCertificate: ca.certificate,
  };
  const check = (secret: Any, names: string[], at = now) =>
    servedSecretProblems(secret, "clouddrove/registry-tls", names, at);

  it("serves when it is a kubernetes.io/tls Secret valid now for the name, with its own key", async () => {
    expect(await check(content, ["registry.example.com"])).toEqual([]);
  });

  it("names each thing that is wrong", async () => {
    expect(await check(undefined, [])).toEqual(["Secret clouddrove/registry-tls does not exist"]);
    expect(await check({ ...content, type: "Opaque" }, [])).toEqual([
      "Secret clouddrove/registry-tls is of type Opaque, not kubernetes.io/tls",
    ]);
    expect(await check({ ...content, certificate: "x" }, [])).toEqual([
      "Secret clouddrove/registry-tls holds no readable PEM certificate under tls.crt",
    ]);
    expect(await check(content, ["other.example.com"])).toEqual([
      "Secret clouddrove/registry-tls: its certificate does not cover other.example.com (it names registry.example.com)",
    ]);
    expect((await check(content, [], new Date(now.getTime() + 91 * DAY)))[0]).toContain(
      "its certificate expired on",
    );
    expect((await check(content, [], new Date(now.getTime() - DAY)))[0]).toContain("is not valid before");
    const other = await issueServerCertificate(ca, { dns: ["registry.example.com"], ips: [] }, now, 90);
    expect(await check({ ...content, key: other.key }, [])).toEqual([
      "Secret clouddrove/registry-tls: tls.key is not the key of the certificate in tls.crt",
    ]);
    expect(await check({ ...content, key: "junk" }, [])).toEqual([
      "Secret clouddrove/registry-tls: tls.key holds no readable PEM private key",
    ]);
  });

  it("a wildcard certificate covers the host name", async () => {
    const wildcard = await issueServerCertificate(ca, { dns: ["*.example.com"], ips: [] }, now, 90);
    expect(await check({ ...content, ...wildcard }, ["registry.example.com"])).toEqual([]);
    expect(servedTrust(wildcard.certificate, ca.certificate)).toEqual({
      ca: ca.certificate,
      servername: "registry.example.com",
    });
  });

  it("publishes ca.crt only when the chain does not reach a public root", () => {
    expect(isPubliclyTrusted(served.certificate)).toBe(false);
    expect(privateIssuer(content)).toBe(ca.certificate);
    expect(privateIssuer({ ...content, caCertificate: undefined })).toBeUndefined();
    // A root Node ships is trusted as it is.
    expect(isPubliclyTrusted(rootCertificates[0] as string)).toBe(true);
  });
});

describe("an ACM certificate", () => {
  const facts = {
    arn: ARN,
    status: "ISSUED",
    type: "AMAZON_ISSUED",
    domainName: "*.example.com",
    subjectAlternativeNames: ["*.example.com", "example.com"],
    notAfter: new Date(now.getTime() + 300 * DAY),
  };
  const want = { arn: ARN, hostname: "registry.example.com", region: "eu-west-1" };

  it("serves when ISSUED, covering the host name, in the cluster's region", () => {
    expect(acmCertificateProblems(facts, want, now)).toEqual([]);
  });

  it("names what stops it", () => {
    expect(acmCertificateProblems({ ...facts, status: "PENDING_VALIDATION" }, want, now)[0]).toContain(
      "PENDING_VALIDATION",
    );
    expect(acmCertificateProblems(facts, { ...want, hostname: "a.registry.example.com" }, now)).toEqual([
      "the certificate does not cover a.registry.example.com (it names *.example.com, example.com)",
    ]);
    expect(acmCertificateProblems(facts, { ...want, region: "us-east-1" }, now)[0]).toContain(
      "the certificate is in eu-west-1, the cluster in us-east-1",
    );
    expect(acmCertificateProblems(undefined, want, now)).toEqual([
      `ACM has no certificate ${ARN} in eu-west-1`,
    ]);
  });

  it("the DNS record: a CNAME to the load balancer's name", () => {
    const record = loadBalancerRecord("registry.example.com", "k8s-a1b2.elb.eu-west-1.amazonaws.com");
    expect(recordText(record)).toBe(
      "registry.example.com. 300 IN CNAME k8s-a1b2.elb.eu-west-1.amazonaws.com.",
    );
  });
});

describe("how clients use the registry, per mode", () => {
  const base = {
    address: "lb.example:5000",
    namespace: "clouddrove",
    username: "clouddrove",
    reach: { clouddrove: [], kubectl: [] } as Any,
  };

  it("acm: the host name, the DNS record, nothing to trust", () => {
    const usage = registryUsage({
      ...base,
      tlsMode: "acm",
      hostname: "registry.example.com",
      dnsRecord: { text: "registry.example.com. 300 IN CNAME lb.example." },
    });
    const text = registryUsageText(usage).join("\n");
    expect(usage.imageAddress).toBe("registry.example.com:5000");
    expect(usage.trust).toEqual([]);
    expect(text).toContain(
      "DNS record:\n  registry.example.com. 300 IN CNAME lb.example.   # create this record",
    );
    expect(text).toContain("nothing to install");
    expect(usage.login[0]).toContain("clouddrove login");
    expect(usage.login.join("\n")).toMatch(/docker login .*registry\.example\.com:5000/);
  });

  it("secret with a private issuer: clouddrove trust first", () => {
    const usage = registryUsage({ ...base, tlsMode: "secret", privateCa: true });
    expect(usage.trust[0]).toContain("clouddrove trust");
    expect(registryUsage({ ...base, tlsMode: "secret" }).trust).toEqual([]);
  });
});

describe("resolveConfig keeps the old modes", () => {
  it("private-ca stays the default", () => {
    expect(resolveConfig({}).config.tls.mode).toBe("private-ca");
  });
});

describe("init's questions per mode", () => {
  /** The TLS questions init asks in turn, each answered as `answers` says ("" skips an optional one). */
  function questions(mode: string, answers: Record<string, string>): string[] {
    const asked = new Set<string>();
    const order: string[] = [];
    const given = new Map<string, string>([["tls.mode", mode]]);
    const sources = new Map<string, Source>([["tls.mode", "prompt"]]);
    for (;;) {
      const config = configWith(EFS, ...[...given].map(([k, v]) => `${k}=${v}`));
      const known = new Map(sources);
      for (const key of [
        "cluster.region",
        "cluster.name",
        "storage.type",
        "storage.efs.fileSystemId",
        "network.allowedCidrs",
        "backup.bucket",
        "backup.setup",
      ])
        known.set(key, "prompt");
      const next = nextInitQuestion(config, known, asked);
      if (!next) return order;
      asked.add(next.key);
      order.push(`${next.key}${next.optional ? "?" : ""}`);
      const answer = answers[next.key] ?? "";
      if (answer !== "") {
        given.set(next.key, answer);
        sources.set(next.key, "prompt");
      }
    }
  }

  it("secret: the Secret first; skipped, the host name before the issuer (which needs it)", () => {
    expect(questions("secret", { "tls.secretName": "registry-tls" })).toEqual([
      "tls.secretName?",
      "tls.hostname?",
    ]);
    expect(
      questions("secret", { "tls.hostname": "registry.example.com", "tls.certManagerIssuer": "letsencrypt" }),
    ).toEqual(["tls.secretName?", "tls.hostname", "tls.certManagerIssuer"]);
  });

  it("acm: the host name, the ARN, then the optional zone", () => {
    expect(questions("acm", { "tls.hostname": "registry.example.com", "tls.certificateArn": ARN })).toEqual([
      "tls.hostname",
      "tls.certificateArn",
      "tls.hostedZoneId?",
    ]);
  });
});
