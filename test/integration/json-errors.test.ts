/**
 * `-o json` when a command refuses (exit 2) before it has a result: stdout still carries exactly one JSON
 * document, `{ ok: false, error: { code, message, hint } }`, and stderr the error as text.
 */
import { describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../support/run-cli.js";

const run = (argv: string[]) => runCli(argv, { env: cleanEnv({ CI: "true" }) });

describe("-o json on a refusal", () => {
  it("prints one error document for flags that do not fit together", async () => {
    const result = await run(["-o", "json", "upgrade", "--node", "a", "--all-nodes"]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: {
        code: "usage",
        exitCode: 2,
        message: "--node and --all-nodes: choose one",
        hint: "See `clouddrove upgrade --help`.",
        details: [],
      },
    });
    expect(result.stderr).toContain("Error: --node and --all-nodes: choose one");
  });

  it("prints one for the parser's own refusals too, and none without -o json", async () => {
    const unknown = await run(["--output=json", "status", "--no-such-flag"]);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      ok: false,
      error: { code: "usage", message: "unknown option '--no-such-flag'" },
    });
    const text = await run(["upgrade", "--node", "a", "--all-nodes"]);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe("");
  });
});
