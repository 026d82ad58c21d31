// A real S3 server for the backup benchmark: versitygw (an S3 gateway over a POSIX directory, built from its
// Go module by scripts/components.sh), serving a directory on tmpfs. It is fast enough not to be what is
// measured: s3rver (Node) and gofakes3 (Go, in memory) both capped every tool at 20-25 MiB/s here.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where scripts/components.sh keeps the versitygw binary (building it on first use: about 10 minutes cold). */
function versitygwBinary() {
  const result = spawnSync(join(ROOT, "scripts/components.sh"), ["--print-env", "s3server"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (result.status !== 0) throw new Error("scripts/components.sh s3server failed (see above)");
  const line = result.stdout.split("\n").find((l) => l.startsWith("S3SERVER_BIN_DIR="));
  if (!line) throw new Error("scripts/components.sh --print-env s3server printed no S3SERVER_BIN_DIR");
  return join(line.slice("S3SERVER_BIN_DIR=".length), "versitygw");
}

/** A port free on 127.0.0.1 now (the server binds it a moment later; nothing else here picks ports). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => socket.end(() => resolve(true)));
    socket.on("error", () => resolve(false));
  });
}

/**
 * Starts the server on a free loopback port with its data under `parentDir` (tmpfs for the benchmark).
 * Returns the endpoint, the credentials, a `bytes(bucket)` of what a bucket holds, and `stop()`.
 */
export async function startS3Server(parentDir) {
  const binary = versitygwBinary();
  const dir = mkdtempSync(join(parentDir, "clouddrove-bench-s3-"));
  const data = join(dir, "data");
  // Object metadata (ETags, content types) goes to a sidecar directory, so the data directory needs no
  // extended attributes (tmpfs has them only for some namespaces on some kernels).
  const meta = join(dir, "meta");
  mkdirSync(data);
  mkdirSync(meta);
  const port = await freePort();
  const accessKeyId = `bench${randomBytes(4).toString("hex")}`;
  const secretAccessKey = randomBytes(18).toString("base64url");
  const child = spawn(binary, ["--port", `127.0.0.1:${port}`, "--quiet", "posix", "--sidecar", meta, data], {
    env: { PATH: process.env.PATH, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let waited = 0; !(await answers(port)); waited += 50) {
    if (child.exitCode !== null || waited > 20_000) {
      await stop();
      throw new Error(`versitygw did not start on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const du = (bucket) =>
    Number(spawnSync("du", ["-sb", join(data, bucket)], { encoding: "utf8" }).stdout.split(/\s/)[0]);
  return { endpoint, accessKeyId, secretAccessKey, bytes: du, stop };
}

/**
 * rclone's environment for an S3 remote called `name` on that server (no config file).
 *
 * RCLONE_EXPECT_CONTINUE_TIMEOUT=0: rclone's S3 client sends `Expect: 100-continue` with every body of
 * 2 MiB or more and waits for the server's "100 Continue" before sending it, for at most this timeout
 * (1 s by default). versitygw never answers it (AWS S3 does at once), so every such upload stood still
 * for a full second: a 5 MB object took 1.11 s instead of 0.12 s, a 31 MB one 1.30 s instead of 0.32 s.
 * With 0 the body follows the headers at once, as it does against S3 after one round trip. This applies
 * to both rclone-based tools measured (archive.sh and `rclone copy`); restic does not send the header.
 */
export function rcloneRemoteEnv(server, name) {
  const prefix = `RCLONE_CONFIG_${name.toUpperCase()}_`;
  return {
    RCLONE_CONFIG: "/dev/null",
    RCLONE_EXPECT_CONTINUE_TIMEOUT: "0",
    [`${prefix}TYPE`]: "s3",
    [`${prefix}PROVIDER`]: "Other",
    [`${prefix}ENV_AUTH`]: "false",
    [`${prefix}ACCESS_KEY_ID`]: server.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: server.secretAccessKey,
    [`${prefix}ENDPOINT`]: server.endpoint,
    [`${prefix}REGION`]: "us-east-1",
    [`${prefix}FORCE_PATH_STYLE`]: "true",
  };
}
