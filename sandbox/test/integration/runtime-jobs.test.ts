/**
 * A Job whose container is the backup image's shell running a script runs for real in the sandbox: the
 * script from its ConfigMap, rclone reaching the sandbox's S3 with the injected keys, nothing of this
 * process's environment, and the pod's phase, exit code and log taken from the process.
 */
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxS3Client } from "../support/s3-client.js";
import { startTestSandbox, type TestSandbox } from "../support/sandbox.js";
import { until } from "../support/wait.js";

const SCRIPT = `set -eu
echo "ca=\${AWS_CA_BUNDLE:-unset} tmp=$(mktemp -d) data=$DATA_DIR"
printf 'written by a pod' | rclone rcat backup:jobs-bucket/out.txt
echo "read back: $(rclone cat backup:jobs-bucket/out.txt)"
exit 3
`;

let sbx: TestSandbox | undefined;
const saved = process.env.AWS_CA_BUNDLE;
afterEach(async () => {
  await sbx?.stop();
  if (saved === undefined) delete process.env.AWS_CA_BUNDLE;
  else process.env.AWS_CA_BUNDLE = saved;
});

describe("a script Job in the sandbox", () => {
  it("runs the script for real against the sandbox's S3; the pod ends with its exit code and log", async () => {
    process.env.AWS_CA_BUNDLE = "/nonexistent/ca-bundle.pem"; // rclone would fail if it saw this
    sbx = await startTestSandbox({ controllers: true, speed: 200 });
    const { store } = sbx.sandbox;
    store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "jobs" } });
    store.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "scripts", namespace: "jobs" },
      data: { "run.sh": SCRIPT },
    });
    store.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "script", namespace: "jobs" },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "run",
                image: "rclone/rclone:1.68.2",
                command: ["/bin/sh", "/scripts/run.sh"],
                env: [
                  { name: "RCLONE_CONFIG", value: "/dev/null" },
                  { name: "RCLONE_CONFIG_BACKUP_TYPE", value: "s3" },
                  { name: "RCLONE_CONFIG_BACKUP_ENV_AUTH", value: "true" },
                  { name: "HOME", value: "/tmp" },
                  { name: "DATA_DIR", value: "/scripts" },
                ],
                volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }],
              },
            ],
            volumes: [{ name: "scripts", configMap: { name: "scripts" } }],
          },
        },
      },
    });
    const pod = await until("the Job's pod to fail", () =>
      store
        .list("Pod", { namespace: "jobs", labelSelector: "job-name=script" })
        .find((p) => p.status?.phase === "Failed"),
    );
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    const log = await sbx.kubectl("-n", "jobs", "logs", pod.metadata.name);
    const lines = log.stdout.trim().split("\n");
    // Paths inside the container are where the pod's files are on the host; nothing of this process leaks.
    expect(lines[0]).toMatch(/^ca=unset tmp=\/\S+\/rootfs\/tmp\/\S+ data=\/\S+\/volumes\/scripts$/);
    expect(lines.at(-1)).toBe("read back: written by a pod");

    const s3 = sandboxS3Client(sbx.sandbox);
    const object = await s3.send(new GetObjectCommand({ Bucket: "jobs-bucket", Key: "out.txt" }));
    expect(await object.Body?.transformToString()).toBe("written by a pod");
    expect(store.get("Job", "jobs", "script")?.status.conditions).toContainEqual(
      expect.objectContaining({ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }),
    );
  });
});
