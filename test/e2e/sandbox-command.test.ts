/**
 * `clouddrove sandbox up | status | down` (src/commands/sandbox.ts, the sandbox package's lifecycle) as a
 * user runs them with the built CLI: the sandbox is a background process that outlives every command,
 * `--sandbox` reaches it through its kubeconfig, and `down` leaves no process behind.
 */
import { execFileSync, execSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBuiltCli } from "../support/built-cli.js";
import { requestTrusting } from "../support/request-trusting.js";
import { tempDir } from "../support/run-cli.js";
import { processGroup, stopSandbox } from "../support/sandbox-daemon.js";

const cwd = tempDir();
const stateDir = join(cwd, "sandbox");
const env = { CLOUDDROVE_SANDBOX_DIR: stateDir, CLOUDDROVE_SANDBOX_SPEED: "200" };
const run = (...args: string[]) => runBuiltCli(args, { cwd, env, timeoutMs: 120_000 });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => stopSandbox(stateDir));

describe("the sandbox as a cluster you point at", () => {
  let pid = 0;

  it("up starts it in the background and returns; up again reports the running one, and merges its context", () => {
    const up = run("sandbox", "up", "-o", "json");
    expect(up.status, up.stderr).toBe(0);
    const started = JSON.parse(up.stdout);
    expect(started).toMatchObject({ running: true, started: true, context: "clouddrove-sandbox" });
    expect(started.nodes).toHaveLength(3);
    pid = started.pid;
    expect(alive(pid)).toBe(true);

    const again = run("sandbox", "up", "-o", "json");
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ started: false, pid, url: started.url });

    // As kind does: the context merged into the user's kubeconfig (HOME is the test's directory here).
    const merged = run("sandbox", "up", "--merge-kubeconfig", "-o", "json");
    expect(merged.status, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout).mergedInto).toBe(join(cwd, ".kube", "config"));
    const viaDefault = execFileSync(
      "kubectl",
      ["--context", "clouddrove-sandbox", "get", "nodes", "-o", "name"],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: cwd },
      },
    );
    expect(viaDefault.trim().split("\n")).toHaveLength(3);

    const nodes = execFileSync(
      "kubectl",
      ["--kubeconfig", started.kubeconfig, "--context", "clouddrove-sandbox", "get", "nodes", "-o", "name"],
      { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: cwd } },
    );
    expect(nodes.trim().split("\n")).toHaveLength(3);
  });

  it("serve on the same state refuses with exit 2 and names the running sandbox", () => {
    const serve = run("sandbox", "serve");
    expect(serve.status).toBe(2);
    expect(serve.stderr).toContain(`already running (pid ${pid}`);
  });

  it("deploy --sandbox exits, and the address it printed answers with the credentials its login line reads", async () => {
    const deploy = run("deploy", "--sandbox", "--yes");
    expect(deploy.status, deploy.stderr).toBe(0);
    expect(deploy.stderr).toContain(`Using the sandbox (pid ${pid})`);
    const address = /^Address: +(\S+)$/m.exec(deploy.stdout)?.[1];
    const loginLine = /^ {2}# or by hand: (kubectl .*get secret .*\| docker login .*)$/m.exec(
      deploy.stdout,
    )?.[1];
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(loginLine).toContain("--context clouddrove-sandbox");
    expect(loginLine).toMatch(new RegExp(`--password-stdin ${address}$`));
    expect(deploy.stdout).toMatch(/^ {2}clouddrove login --sandbox\b/m);
    expect(deploy.stdout).toMatch(/^ {2}clouddrove status --sandbox\b/m);

    // The printed line as printed, in a shell whose KUBECONFIG names no cluster, with a docker on PATH
    // that keeps what it reads on stdin: the password, which the line itself never shows.
    const bin = join(cwd, "fake-docker");
    mkdirSync(bin);
    writeFileSync(join(bin, "docker"), `#!/bin/sh\n/bin/cat > '${join(cwd, "docker-stdin")}'\n`, {
      mode: 0o755,
    });
    execSync(loginLine as string, {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: cwd },
    });
    const password = readFileSync(join(cwd, "docker-stdin"), "utf8").trimEnd();
    const username = /--username (\S+)/.exec(loginLine as string)?.[1];
    expect(password).not.toBe("");
    expect(deploy.stdout).not.toContain(password);
    // The registry serves TLS from the private CA: the CA as the printed line reads it, trusted alone.
    const caLine =
      /^ {2}# or by hand: (kubectl .*get configmap registry-clouddrove-ca .*) \| sudo tee /m.exec(
        deploy.stdout,
      )?.[1];
    expect(caLine).toContain("--context clouddrove-sandbox");
    const ca = execSync(caLine as string, {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: cwd },
    });
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const url = `https://${address}/v2/`;
    const trusting = requestTrusting({ ca });
    const authorized = await trusting(url, {
      headers: { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
    });
    expect(authorized.status).toBe(200);
    expect((await trusting(url)).status).toBe(401);
    // Without the CA there is no TLS session at all.
    await expect(fetch(url)).rejects.toThrow();
  });

  it("status --sandbox uses the running sandbox instead of starting a second one", () => {
    const status = run("status", "--sandbox");
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(status.stdout).toContain("Healthy.");
    expect(status.stderr).toContain(`Using the sandbox (pid ${pid})`);
    const daemons = execSync("ps -eo pid=,args=", { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("daemon.js") && line.includes(stateDir));
    expect(daemons).toHaveLength(1);
  });

  it("down stops it and every process it started; status then says it is not running", async () => {
    const group = processGroup(pid);
    expect(group.length).toBeGreaterThanOrEqual(4); // the sandbox and three registry processes
    const down = run("sandbox", "down");
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toContain(`Stopped the sandbox (pid ${pid})`);
    expect(group.filter(alive)).toEqual([]);
    const status = run("sandbox", "status");
    expect(status.status).toBe(1);
    expect(status.stdout).toContain("The sandbox is not running (a saved cluster is in");
  });
});
