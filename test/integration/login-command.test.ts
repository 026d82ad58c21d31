/**
 * `clouddrove login` against a sandbox API server holding what deploy creates in the private-ca mode (the
 * CA ConfigMap, the pull Secret, the Service with a load balancer address), with a fake `docker` on PATH
 * that records its argv and its stdin: the password reaches the tool on stdin only, never its argv nor
 * the output; the CA is installed first; without docker the printed commands, run as printed (real
 * kubectl, base64 and jq), hand the tool the same password on stdin.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/src/index.js";
import { makeTestCa, type TestCa } from "../../sandbox/test/support/test-ca.js";
import { cleanEnv, runCli, tempDir } from "../support/run-cli.js";

const NS = "clouddrove";
const LB = "registry-abc123.elb.eu-west-1.amazonaws.com";
// Characters a shell or JSON would mangle if the password ever travelled through either unquoted.
const PASSWORD = `p@ss'w"rd $HOME \\ end`;

let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;
let ca: TestCa;

function addObjects() {
  const store = sandbox.store;
  store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  store.create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "registry-clouddrove-ca", namespace: NS },
    data: { "ca.crt": ca.certPem },
  });
  const entry = {
    username: "clouddrove",
    password: PASSWORD,
    auth: Buffer.from(`clouddrove:${PASSWORD}`).toString("base64"),
  };
  const dockerConfig = JSON.stringify({
    auths: { [`registry-clouddrove.${NS}.svc:5000`]: entry, [`${LB}:5000`]: entry },
  });
  store.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name: "registry-clouddrove-pull", namespace: NS },
    data: { ".dockerconfigjson": Buffer.from(dockerConfig).toString("base64") },
  });
  const service = store.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "registry-clouddrove", namespace: NS },
    spec: { type: "LoadBalancer", ports: [{ name: "registry", port: 5000, targetPort: 5000 }] },
  });
  store.updateStatus({ ...service, status: { loadBalancer: { ingress: [{ hostname: LB }] } } });
}

/** A directory with a fake `tool` that writes its argv (one per line) and stdin into `log`, then exits `code`. */
function fakeTool(name: string, tool: string, code = 0, says = ""): { bin: string; log: string } {
  const bin = join(dir, `bin-${name}`);
  const log = join(dir, `log-${name}`);
  mkdirSync(bin, { recursive: true });
  mkdirSync(log, { recursive: true });
  writeFileSync(
    join(bin, tool),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}/argv'\n/bin/cat > '${log}/stdin'\n${says ? `echo '${says}' >&2\n` : ""}exit ${code}\n`,
  );
  chmodSync(join(bin, tool), 0o755);
  return { bin, log };
}

beforeAll(async () => {
  dir = tempDir("clouddrove-login-");
  ca = makeTestCa(dir);
  sandbox = await startSandbox({ controllers: false });
  kubeconfig = join(dir, "kubeconfig");
  sandbox.writeKubeconfig(kubeconfig);
  addObjects();
});

afterAll(async () => {
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

const login = (path: string, root: string, ...args: string[]) =>
  runCli(["--kubeconfig", kubeconfig, "login", "--trust-root-dir", root, ...args], {
    env: cleanEnv({ PATH: path }),
  });

describe("clouddrove login", () => {
  it("trusts the CA, then runs docker login with the password on stdin and never on argv", async () => {
    const docker = fakeTool("ok", "docker");
    const root = join(dir, "root-ok");
    const run = await login(docker.bin, root, "-o", "json");
    expect(run.code).toBe(0);
    const argv = readFileSync(join(docker.log, "argv"), "utf8").trimEnd().split("\n");
    expect(argv).toEqual(["login", "--username", "clouddrove", "--password-stdin", `${LB}:5000`]);
    expect(argv.join(" ")).not.toContain("p@ss");
    expect(readFileSync(join(docker.log, "stdin"), "utf8")).toBe(PASSWORD);
    expect(run.stdout + run.stderr).not.toContain("p@ss");

    const report = JSON.parse(run.stdout);
    expect(report.address).toBe(`${LB}:5000`);
    expect(report.trust.outcome).toBe("written");
    expect(report.clients).toEqual([
      {
        tool: "docker",
        installed: true,
        outcome: "logged-in",
        command: `docker login --username clouddrove --password-stdin ${LB}:5000`,
      },
    ]);
    // The CA was in place for Docker before it logged in.
    expect(readFileSync(join(root, "etc/docker/certs.d", `${LB}:5000`, "ca.crt"), "utf8")).toBe(ca.certPem);
  });

  it("a login the tool refuses is exit 1 with the tool's own words", async () => {
    const docker = fakeTool(
      "refused",
      "docker",
      1,
      "Error response from daemon: login attempt failed: 401 Unauthorized",
    );
    const run = await login(docker.bin, join(dir, "root-refused"));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "docker: login failed: Error response from daemon: login attempt failed: 401 Unauthorized",
    );
    expect(run.stderr).toContain("Login failed for docker");
  });

  it("logs nerdctl and Podman in too where they are installed", async () => {
    const podman = fakeTool("podman", "podman");
    const docker = fakeTool("with-podman", "docker");
    const run = await login(`${docker.bin}:${podman.bin}`, join(dir, "root-podman"), "-o", "json");
    expect(run.code).toBe(0);
    expect(
      JSON.parse(run.stdout).clients.map((c: { tool: string; outcome: string }) => [c.tool, c.outcome]),
    ).toEqual([
      ["docker", "logged-in"],
      ["podman", "logged-in"],
    ]);
    expect(readFileSync(join(podman.log, "stdin"), "utf8")).toBe(PASSWORD);
  });

  it("--hostname: logs in to HOSTNAME:5000 and trusts the CA for that name too", async () => {
    const docker = fakeTool("hostname", "docker");
    const root = join(dir, "root-hostname");
    const run = await login(docker.bin, root, "--hostname", "registry.example.com");
    expect(run.code).toBe(0);
    expect(readFileSync(join(docker.log, "argv"), "utf8")).toContain("registry.example.com:5000\n");
    expect(existsSync(join(root, "etc/docker/certs.d/registry.example.com:5000/ca.crt"))).toBe(true);
  });

  it("--dry-run trusts nothing and runs nothing", async () => {
    const docker = fakeTool("dry", "docker");
    const root = join(dir, "root-dry");
    const run = await login(docker.bin, root, "--dry-run");
    expect(run.code).toBe(0);
    expect(existsSync(root)).toBe(false);
    expect(existsSync(join(docker.log, "argv"))).toBe(false);
    expect(run.stdout).toContain(
      `docker: would run docker login --username clouddrove --password-stdin ${LB}:5000`,
    );
  });

  it("without docker prints the commands; run as printed they hand docker the password on stdin", async () => {
    const empty = join(dir, "bin-empty");
    mkdirSync(empty);
    const run = await login(empty, join(dir, "root-none"), "-o", "json");
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain("p@ss");
    const [docker] = JSON.parse(run.stdout).clients;
    expect(docker).toMatchObject({ tool: "docker", installed: false, outcome: "run-yourself" });
    expect(docker.command).toBe(
      `kubectl --kubeconfig ${kubeconfig} --context clouddrove-sandbox get secret registry-clouddrove-pull -n ${NS} -o jsonpath='{.data.\\.dockerconfigjson}'` +
        ` | base64 -d | jq -r 'first(.auths[].password)' | docker login --username clouddrove --password-stdin ${LB}:5000`,
    );

    // On a machine with docker (here the fake one before the real tools on PATH), exactly as printed.
    const fake = fakeTool("printed", "docker");
    const shell = await execa("sh", ["-c", docker.command], {
      env: { PATH: `${fake.bin}:${process.env.PATH}`, HOME: dir },
      extendEnv: false,
      reject: false,
    });
    expect(shell.stderr).toBe("");
    expect(shell.exitCode).toBe(0);
    // jq -r ends the value with a newline; docker login --password-stdin trims it, as it trims any.
    expect(readFileSync(join(fake.log, "stdin"), "utf8")).toBe(`${PASSWORD}\n`);
    expect(readFileSync(join(fake.log, "argv"), "utf8")).not.toContain("p@ss");
  });
});
