/**
 * The files that make this machine's container tools trust the registry's CA, per address:
 * - Docker: /etc/docker/certs.d/HOST:PORT/ca.crt (every *.crt there is a CA for that registry);
 * - containerd and nerdctl: /etc/containerd/certs.d/HOST:PORT/hosts.toml naming ca.crt beside it
 *   (containerd's docs/hosts.md: paths in hosts.toml may be relative to the file; the CRI plugin reads the
 *   directory only when its registry config_path points there, nerdctl always does);
 * - Podman, Buildah, Skopeo (containers-certs.d(5)): /etc/containers/certs.d/HOST:PORT/ca.crt.
 * Paths are joined under `root` ("/" on a real machine, a directory of the caller's choice otherwise).
 */
import { posix } from "node:path";
import { hostPort, type RegistryAddress } from "./address.js";

export type ClientTool = "docker" | "containerd" | "podman";

export interface TrustFile {
  tool: ClientTool;
  /** Absolute path under the root. */
  path: string;
  content: string;
}

export const CLIENT_CERTS_DIRS: Record<ClientTool, string> = {
  docker: "/etc/docker/certs.d",
  containerd: "/etc/containerd/certs.d",
  podman: "/etc/containers/certs.d",
};

/**
 * containerd's host configuration for the registry: the registry itself is the server (no mirror), able to
 * pull, resolve tags and take pushes, trusted through the CA file next to this one.
 */
export function hostsToml(address: RegistryAddress): string {
  const url = `https://${hostPort(address)}`;
  return [
    "# Written by clouddrove: the registry's private CA, for containerd and nerdctl.",
    `server = "${url}"`,
    "",
    `[host."${url}"]`,
    '  capabilities = ["pull", "resolve", "push"]',
    '  ca = "ca.crt"',
    "",
  ].join("\n");
}

export function clientTrustFiles(caPem: string, addresses: RegistryAddress[], root: string): TrustFile[] {
  return addresses.flatMap((address) => {
    const dir = (tool: ClientTool) => posix.join(root, CLIENT_CERTS_DIRS[tool], hostPort(address));
    return [
      { tool: "docker", path: posix.join(dir("docker"), "ca.crt"), content: caPem },
      { tool: "containerd", path: posix.join(dir("containerd"), "hosts.toml"), content: hostsToml(address) },
      { tool: "containerd", path: posix.join(dir("containerd"), "ca.crt"), content: caPem },
      { tool: "podman", path: posix.join(dir("podman"), "ca.crt"), content: caPem },
    ] satisfies TrustFile[];
  });
}

const shellQuote = (text: string) =>
  /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;

/**
 * The commands that write the same files as root, to paste where clouddrove lacks the rights. The CA is
 * public, so it travels inside the commands (a here-document), and the commands need nothing else.
 */
export function sudoCommands(files: TrustFile[]): string[] {
  const dirs = [...new Set(files.map((file) => posix.dirname(file.path)))];
  const lines = [`sudo install -d -m 0755 ${dirs.map(shellQuote).join(" ")}`];
  for (const file of files) {
    lines.push(`sudo tee ${shellQuote(file.path)} >/dev/null <<'CLOUDDROVE_EOF'`);
    lines.push(...file.content.replace(/\n$/, "").split("\n"), "CLOUDDROVE_EOF");
  }
  return lines;
}
