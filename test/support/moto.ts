/**
 * moto's server mode (the AWS emulator scripts/components.sh installs into the components cache) on a
 * port of its own: `python -m moto.server -p 0` binds a free loopback port and prints it, so no port is
 * picked in advance. One server per test file; stop() ends it (SIGTERM, then SIGKILL).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { componentsCacheDir, isExecutable } from "../../sandbox/src/runtime/registry-binaries.js";
import { stopProcess } from "./registry-process.js";

/** The version scripts/components.sh installs (MOTO_VERSION there). */
export const MOTO_VERSION = "5.2.6";

/** Any key is accepted by moto; its account id is 123456789012. */
export const MOTO_ACCOUNT = "123456789012";

export interface MotoServer {
  /** e.g. http://127.0.0.1:39393: every service answers here. */
  endpoint: string;
  /** An environment that points the AWS SDK at it for STS, EC2, EKS, EFS, S3 and IAM, with test keys. */
  env: Record<string, string | undefined>;
  /** Everything the server printed (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

export function motoPython(): string {
  const python = join(componentsCacheDir(), `moto-${MOTO_VERSION}`, "venv", "bin", "python");
  if (!isExecutable(python))
    throw new Error(`moto ${MOTO_VERSION} is not installed (${python}): run scripts/components.sh moto`);
  return python;
}

export async function startMoto(region = "eu-west-1"): Promise<MotoServer> {
  const child = spawn(motoPython(), ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    // Only what it needs: nothing of the runner's AWS settings reaches the emulator.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = once(child, "exit");
  const endpoint = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk;
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout?.on("data", look);
    child.stderr?.on("data", look);
    child.once("exit", (code) => reject(new Error(`moto exited with ${code} at start:\n${output}`)));
    child.once("error", reject);
  });
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_STS: endpoint,
      AWS_ENDPOINT_URL_EC2: endpoint,
      AWS_ENDPOINT_URL_EKS: endpoint,
      AWS_ENDPOINT_URL_EFS: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_IAM: endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_PROFILE: undefined,
      AWS_SESSION_TOKEN: undefined,
    },
    logs: () => output,
    stop: () => stopProcess(child, exited),
  };
}
