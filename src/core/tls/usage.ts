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
  /** "private-ca" or "insecure-http". */
  tlsMode: string;
  /** What a client must do before it logs in (trust the CA, or list the registry as insecure). */
  trust: string[];
  login: string[];
}

export function registryUsage(input: {
  tlsMode: string;
  address: string | null;
  hostname?: string;
  namespace: string;
  username: string;
  reach: Reach;
}): RegistryUsage {
  const imageAddress = input.hostname ? `${input.hostname}:${names.ports.registry}` : input.address;
  const where = imageAddress ?? "ADDRESS";
  const ns = `-n ${input.namespace}`;
  const trust =
    input.tlsMode === "insecure-http"
      ? [
          `# plain HTTP: add "${where}" to "insecure-registries" in /etc/docker/daemon.json and restart Docker`,
        ]
      : [
          `${commandLine("clouddrove trust", input.reach.clouddrove, "")}   # trust the registry's private CA (Docker, containerd, Podman)`,
          `# or by hand: ${commandLine("kubectl", input.reach.kubectl, `get configmap ${names.caConfigMap} ${ns} -o jsonpath='{.data.ca\\.crt}'`)} | sudo tee /etc/docker/certs.d/${where}/ca.crt`,
        ];
  return {
    imageAddress,
    tlsMode: input.tlsMode,
    trust,
    login: [
      `${commandLine("clouddrove login", input.reach.clouddrove, "")}   # trusts the CA where needed, then docker login (password on stdin)`,
      `# or by hand: ${printedLogin({ tool: "docker", address: where, username: input.username, namespace: input.namespace, kubectl: input.reach.kubectl })}`,
    ],
  };
}

export function registryUsageText(usage: RegistryUsage): string[] {
  const where = usage.imageAddress ?? "ADDRESS";
  return [
    `Image names:    ${where}/NAME:TAG (e.g. docker push ${where}/team/app:1.0)`,
    usage.tlsMode === "insecure-http" ? "Before logging in (plain HTTP):" : "Trust the CA first:",
    ...usage.trust.map((line) => `  ${line}`),
    "Log in:",
    ...usage.login.map((line) => `  ${line}`),
  ];
}
