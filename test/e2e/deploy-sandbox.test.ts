/**
 * The built CLI as a user runs it against the sandbox: non-interactive as CI does (CI=true, stdin from
 * /dev/null), and the first interactive run in a real pseudo-terminal (init's questions, then deploy).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runBuiltCli } from "../support/built-cli.js";
import { tempDir } from "../support/run-cli.js";
import { runMark } from "../support/run-mark.js";
import { stopSandbox } from "../support/sandbox-daemon.js";
import { CLI, TmuxSession } from "../support/tmux.js";

const run = (args: string[], cwd: string, env: Record<string, string>) => runBuiltCli(args, { cwd, env });

const sessions: TmuxSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});
// --sandbox starts the sandbox in the background; each test stops its own.
const stateDirs: string[] = [];
afterAll(async () => {
  for (const dir of stateDirs) await stopSandbox(dir);
});

describe("deploy --sandbox, as CI runs it", () => {
  it("deploys, reports healthy, and a second deploy changes nothing", () => {
    const cwd = tempDir();
    const env = { CLOUDDROVE_SANDBOX_DIR: join(cwd, "sandbox"), CLOUDDROVE_SANDBOX_SPEED: "200" };
    stateDirs.push(env.CLOUDDROVE_SANDBOX_DIR);
    const first = run(["deploy", "--sandbox", "--yes"], cwd, env);
    expect(first.stderr).not.toContain("Error:");
    expect(first.status).toBe(0);
    expect(first.stderr).toContain("simulated");
    // The count in the summary is the count of the objects it lists (it said 16 after listing 17).
    const listed = first.stdout.split("\n").filter((line) => /^ {2}\w+\/\S+: created$/.test(line)).length;
    expect(listed).toBeGreaterThan(10);
    expect(first.stdout).toContain(`The registry is deployed on the sandbox (simulated): ${listed} created.`);
    expect(first.stderr).toContain(
      `Apply the registry objects: ${listed - 3} created; the pull Secret, the server certificate and the Deployment wait for the load balancer's address`,
    );
    expect(first.stdout).toContain("docker login");

    const status = run(["status", "--sandbox"], cwd, env);
    expect(status.status, `${status.stdout}\n${status.stderr}`).toBe(0);
    expect(status.stdout).toContain("3/3 ready");
    expect(status.stdout).toContain("Healthy.");

    const second = run(["deploy", "--sandbox", "--yes", "-o", "json"], cwd, env);
    expect(second.status).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.objects.every((o: { action: string }) => o.action === "unchanged")).toBe(true);
  });
});

describe("the first deploy at a terminal", () => {
  it("asks init's questions and the password, then deploys to the sandbox", async () => {
    const cwd = tempDir();
    stateDirs.push(join(cwd, "sandbox"));
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: cwd,
      TERM: "xterm-256color",
      CLOUDDROVE_SANDBOX_DIR: join(cwd, "sandbox"),
      CLOUDDROVE_SANDBOX_SPEED: "200",
      ...runMark(),
    };
    const tty = TmuxSession.start(`${process.execPath} ${CLI} deploy --sandbox`, { cwd, env });
    sessions.push(tty);
    await tty.waitFor(/AWS region/);
    tty.type("eu-central-1");
    await tty.waitFor(/EKS cluster name/);
    tty.type("");
    await tty.waitFor(/shared ReadWriteMany storage/);
    tty.type("");
    await tty.waitFor(/EFS file system id/);
    tty.type(""); // skip: the sandbox's simulated EFS stands in
    await tty.waitFor(/CIDRs admitted/);
    tty.type("10.0.0.0/8");
    await tty.waitFor(/TLS: private-ca/);
    tty.type(""); // the default: TLS from the private CA
    await tty.waitFor(/DNS name clients will use/);
    tty.type("");
    await tty.waitFor(/Backups: create/);
    tty.type(""); // select: the default, create (cluster create would make the bucket)
    await tty.waitFor(/S3 bucket for backups/);
    tty.type(""); // none yet: deploy warns that backups are off
    await tty.waitFor(/Registry password/);
    tty.type("a-password-typed-by-hand");
    const screen = await tty.waitFor(/The registry is deployed on the sandbox/, 60_000);
    expect(screen).toContain("Smoke test");
    expect(await tty.waitForExit()).toBe(0);
    expect(existsSync(join(cwd, "clouddrove.yaml"))).toBe(true);
    expect(parse(readFileSync(join(cwd, "clouddrove.yaml"), "utf8")).cluster.region).toBe("eu-central-1");
    expect(readFileSync(join(cwd, "clouddrove.yaml"), "utf8")).not.toContain("a-password-typed-by-hand");
  });
});
