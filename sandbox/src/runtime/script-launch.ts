/**
 * How a script container runs for real: the backup and restore Jobs' `rclone/rclone` containers, whose
 * command is the image's shell with a script (`/bin/sh /scripts/archive.sh`), the node-trust
 * DaemonSet's Alpine container (`/bin/sh /trust/install-ca.sh`, writing the node's containerd certs.d
 * through its hostPath volume: the directory the sandbox's kubelet pulls with), and the garbage-collection
 * Job's registry-image container (`/bin/sh -c SCRIPT`, which calls `registry garbage-collect`). The host's
 * tools stand in for the image's (sh, rclone, tar, find, sha256sum, stat, ... on PATH; for a registry
 * image, `registry` is the binary that runs its major version, put first on PATH), so the container runs
 * as a host process of that shell with:
 *
 * - its arguments and env values that are container paths inside a volume mount (the script from its
 *   ConfigMap, DATA_DIR on the claim) or under /tmp (the container's own scratch space) translated to
 *   where those files are on the host; any other path (/dev/null, /bin/sh) is the host's own;
 * - exactly its own env plus PATH, HOSTNAME and TMPDIR (nothing of this process leaks in: not
 *   AWS_CA_BUNDLE, proxies or credentials);
 * - the sandbox's S3, injected the way the EKS Pod Identity webhook injects credentials: AWS_REGION,
 *   AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the sandbox's static keys) and
 *   AWS_ENDPOINT_URL_S3, each only when the container does not set it itself; and for rclone, whose s3
 *   backend addresses buckets by virtual host when its provider is AWS (so an endpoint variable alone
 *   cannot point it at a path-style store on 127.0.0.1), the remote `backup` of clouddrove's scripts is
 *   pointed at the sandbox's S3 (provider Other, endpoint, path style) unless the container names an
 *   endpoint on 127.0.0.1 itself. A container naming any other endpoint is pointed at the sandbox's S3
 *   too, and an event says so: nothing in the sandbox connects beyond 127.0.0.1.
 */
import type { SandboxS3 } from "../s3.js";
import { registryMajor, splitImage } from "./image.js";
import { hostPathOf, type MountTable, mountFor } from "./volumes.js";

// biome-ignore lint/suspicious/noExplicitAny: container specs are plain JSON
type Json = any;

/** The shells a script container may name as its command (the image's /bin/sh is busybox ash). */
const SHELLS = new Set(["sh", "ash", "dash", "bash"]);

/** The images whose shell scripts run for real, and the host tools each needs besides the shell. */
type ScriptImage = "rclone" | "alpine" | "registry";

function scriptImage(image: string | undefined): ScriptImage | undefined {
  if (!image) return undefined;
  const { repository } = splitImage(image);
  const named = (name: string) => repository === name || repository.endsWith(`/${name}`);
  // rclone's image (Alpine with busybox, plus rclone): the backup and restore Jobs.
  if (named("rclone/rclone")) return "rclone";
  // Alpine itself: the node-trust DaemonSet's install-ca.sh (busybox sh, cat, cmp, mkdir, mv).
  if (named("alpine") || named("library/alpine")) return "alpine";
  // The registry's image of a major version the sandbox runs (Alpine with busybox, plus /bin/registry):
  // the garbage-collection Job.
  if (registryMajor(image) !== undefined) return "registry";
  return undefined;
}

/** Host tools a script container of this image needs (the shell comes on top). */
export function scriptTools(container: Json): string[] {
  return scriptImage(container?.image) === "rclone" ? ["rclone"] : [];
}

/** The container's argv after the shell when it is a script container the sandbox runs, else undefined. */
export function scriptArguments(container: Json): string[] | undefined {
  const image = scriptImage(container?.image);
  if (image === undefined) return undefined;
  const command: string[] = container.command ?? [];
  const shell = command[0]?.split("/").pop();
  if (shell === undefined || !SHELLS.has(shell)) return undefined;
  const args = [...command.slice(1), ...(container.args ?? [])].map(String);
  // Of Alpine, only a script file a volume provides (`sh /trust/install-ca.sh`) runs for real: a bare
  // `sh -c ...` could be anything, not meant to run on this machine.
  if (image === "alpine" && (args[0] === undefined || args[0].startsWith("-"))) return undefined;
  return args;
}

/** The rclone remote clouddrove's backup scripts use (RCLONE_CONFIG_BACKUP_*). */
const RCLONE_REMOTE = "RCLONE_CONFIG_BACKUP";

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  } catch {
    return false;
  }
}

export interface ScriptLaunchInput {
  container: Json;
  mounts: MountTable;
  /** The container's resolved environment. */
  env: Record<string, string>;
  podName: string;
  /** The sandbox's S3 (undefined: none is injected). */
  s3: Pick<SandboxS3, "endpoint" | "region" | "accessKeyId" | "secretAccessKey"> | undefined;
  /** A directory put first on PATH (where the image's own binaries stand, e.g. `registry`). */
  binDirectory?: string;
}

export interface ScriptLaunchPlan {
  args: string[];
  env: Record<string, string>;
  /** What the pod's events should say (the sandbox replaced an endpoint). */
  notes: string[];
}

/** A container path as the host sees it, for paths a volume covers or the container's /tmp. */
function translate(mounts: MountTable, value: string): string {
  if (!value.startsWith("/")) return value;
  if (mountFor(mounts, value) === undefined && value !== "/tmp" && !value.startsWith("/tmp/")) return value;
  return hostPathOf(mounts, value).hostPath;
}

export function planScriptLaunch(input: ScriptLaunchInput): ScriptLaunchPlan {
  const { mounts, s3 } = input;
  const args = (scriptArguments(input.container) ?? []).map((arg) => translate(mounts, arg));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.env)) env[name] = translate(mounts, value);
  const notes: string[] = [];
  // The sandbox's S3 is for the backup image; the node-trust script talks to nothing.
  if (s3 && scriptImage(input.container?.image) === "rclone") {
    const defaults: Record<string, string> = {
      AWS_REGION: s3.region,
      AWS_DEFAULT_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    };
    for (const [name, value] of Object.entries(defaults)) env[name] ??= value;
    const own = env[`${RCLONE_REMOTE}_ENDPOINT`];
    if (own === undefined || !isLoopback(own)) {
      if (own !== undefined)
        notes.push(`endpoint ${own} is outside the sandbox: the container uses the sandbox's S3 instead`);
      env[`${RCLONE_REMOTE}_PROVIDER`] = "Other";
      env[`${RCLONE_REMOTE}_ENDPOINT`] = s3.endpoint;
      env[`${RCLONE_REMOTE}_FORCE_PATH_STYLE`] = "true";
    }
  }
  const hostPath = process.env.PATH ?? "/usr/bin:/bin";
  return {
    args,
    env: {
      PATH: input.binDirectory ? `${input.binDirectory}:${hostPath}` : hostPath,
      HOSTNAME: input.podName,
      TMPDIR: hostPathOf(mounts, "/tmp").hostPath,
      ...env,
    },
    notes,
  };
}
