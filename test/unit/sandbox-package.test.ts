/** src/commands/sandbox-package.ts: the sandbox package is optional, and its errors become the CLI's. */

import * as sandbox from "@clouddrove/sandbox";
import { describe, expect, it } from "vitest";
import { loadSandboxPackage, NOT_INSTALLED_HINT, sandboxCall } from "../../src/commands/sandbox-package.js";
import { OperationError, UsageError } from "../../src/errors.js";

function missing(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /x/dist/bundle/cli.js`), {
    code: "ERR_MODULE_NOT_FOUND",
  });
}

describe("loadSandboxPackage", () => {
  it("says how to install the package when it is missing (exit 2)", async () => {
    const error = await loadSandboxPackage(() => Promise.reject(missing("@clouddrove/sandbox"))).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain("@clouddrove/sandbox");
    expect(error.message).toContain("not installed");
    expect(error.hint).toBe(NOT_INSTALLED_HINT);
    expect(error.hint).toContain("npm install");
  });

  it("passes on any other failure, e.g. a dependency of the package that is missing", async () => {
    const error = await loadSandboxPackage(() => Promise.reject(missing("ws"))).catch((e) => e);
    expect(error).not.toBeInstanceOf(UsageError);
    expect(error.message).toContain("'ws'");
  });

  it("loads the package where it is installed", async () => {
    const loaded = await loadSandboxPackage();
    expect(typeof loaded.up).toBe("function");
  });
});

describe("sandboxCall", () => {
  it("maps the sandbox's usage and operation errors to the CLI's, keeping the hint", async () => {
    const usage = await sandboxCall(sandbox, () =>
      Promise.reject(new sandbox.SandboxUsageError("no such node", { hint: "use another" })),
    ).catch((e) => e);
    expect(usage).toBeInstanceOf(UsageError);
    expect(usage.hint).toBe("use another");
    const failed = await sandboxCall(sandbox, () =>
      Promise.reject(new sandbox.SandboxOperationError("it broke")),
    ).catch((e) => e);
    expect(failed).toBeInstanceOf(OperationError);
  });

  it("turns 'already running' into a usage error naming the pid and address", async () => {
    const owner = { pid: 4242, mode: "daemon" as const, startedAt: "", url: "https://127.0.0.1:1" };
    const error = await sandboxCall(sandbox, () =>
      Promise.reject(new sandbox.AlreadyRunningError(owner)),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe("The sandbox is already running (pid 4242 at https://127.0.0.1:1).");
  });
});
