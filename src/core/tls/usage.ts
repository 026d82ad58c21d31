/**
 * How clients use the registry, per tls.mode: the address to put in image names, what they must trust
 * first, and the docker login line that then works. Shown by deploy's report and by status.
 */
import { commandLine, type Reach } from "../command-line.js";
import { printedLogin } from "../login/plan.js";
import { names } from "../render/names.js";

export interface RegistryUsage {
  /** host:port for image names (tls.hostname on the registry port when set, else the load balancer's). */
  imageAddress: string | null;
  /** "private-ca", "secret", "acm" or "insecure-http". */
  tlsMode: string;
  /** What a client must do before it logs in (trust the CA, or list the registry as insecure); empty: nothing. */
  trust: string[];
  login: string[];
  /** tls.mode acm: the DNS record that sends the registry's name to the load balancer. */
  dns?: string[];
}

/** Whether clients must install a CA: clouddrove's own, or (tls.mode secret) the Secret's private issuer. */
function needsCa(input: { tlsMode: string; privateCa?: boolean }): boolean {
  return input.tlsMode === "private-ca" || (input.tlsMode === "secret" && input.privateCa === true);
}

export function registryUsage(input: {
  tlsMode: string;
  address: string | null;
  hostname?: string;
  namespace: string;
  username: string;
  reach: Reach;
  /** tls.mode secret: the Secret's issuer is private (its CA is in ConfigMap registry-clouddrove-ca). */
  privateCa?: boolean;
  /** tls.mode acm: the record as a zone-file line, and the Route 53 zone it was written to (if any). */
  dnsRecord?: { text: string; zone?: string };
}): RegistryUsage {
  const imageAddress = input.hostname ? `${input.hostname}:${names.ports.registry}` : input.address;
  const where = imageAddress ?? "ADDRESS";
  const ns = `-n ${input.namespace}`;
  const trust =
    input.tlsMode === "insecure-http"
      ? [
          `# plain HTTP: add "${where}" to "insecure-registries" in /etc/docker/daemon.json and restart Docker`,
        ]
      : needsCa(input)
        ? [
            `${commandLine("clouddrove trust", input.reach.clouddrove, "")}   # trust the registry's ${input.tlsMode === "secret" ? "certificate issuer's" : "private"} CA (Docker, containerd, Podman)`,
            `# or by hand: ${commandLine("kubectl", input.reach.kubectl, `get configmap ${names.caConfigMap} ${ns} -o jsonpath='{.data.ca\\.crt}'`)} | sudo tee /etc/docker/certs.d/${where}/ca.crt`,
          ]
        : [];
  const dns = input.dnsRecord
    ? [
        input.dnsRecord.zone
          ? `${input.dnsRecord.text}   # written to Route 53 zone ${input.dnsRecord.zone}`
          : `${input.dnsRecord.text}   # create this record in the zone of ${input.hostname}; the name works once it resolves`,
      ]
    : undefined;
  return {
    imageAddress,
    tlsMode: input.tlsMode,
    trust,
    login: [
      `${commandLine("clouddrove login", input.reach.clouddrove, "")}   # trusts the CA where needed, then docker login (password on stdin)`,
      `# or by hand: ${printedLogin({ tool: "docker", address: where, username: input.username, namespace: input.namespace, kubectl: input.reach.kubectl })}`,
    ],
    ...(dns ? { dns } : {}),
  };
}

export function registryUsageText(usage: RegistryUsage): string[] {
  const where = usage.imageAddress ?? "ADDRESS";
  const trustHeading =
    usage.tlsMode === "insecure-http"
      ? ["Before logging in (plain HTTP):"]
      : usage.trust.length > 0
        ? ["Trust the CA first:"]
        : ["Trust:          nothing to install (the certificate's issuer is publicly trusted)"];
  return [
    `Image names:    ${where}/NAME:TAG (e.g. docker push ${where}/team/app:1.0)`,
    ...(usage.dns ? ["DNS record:", ...usage.dns.map((line) => `  ${line}`)] : []),
    ...trustHeading,
    ...usage.trust.map((line) => `  ${line}`),
    "Log in:",
    ...usage.login.map((line) => `  ${line}`),
  ];
}
