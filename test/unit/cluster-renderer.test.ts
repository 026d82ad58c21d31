import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import type { RendererKind } from "../../src/io/env.js";
import { listrOptions, runTasks } from "../../src/io/renderer.js";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString("utf8");
    done();
  }
}

const target = (renderer: RendererKind, signal?: AbortSignal) => ({
  renderer,
  io: { stderr: new Capture(), signal },
});

describe("the task list renderer", () => {
  it("chooses listr2's renderer from io/env's decision", async () => {
    expect((await listrOptions(target("silent"))).renderer).toBe("silent");
    const verbose = await listrOptions(target("verbose"));
    expect(verbose.renderer).toBe("verbose");
    expect((verbose as { rendererOptions?: object }).rendererOptions).toHaveProperty("timestamp");
    const animated = await listrOptions(target("default"));
    // Drawn on stderr even when stdout is a pipe: the renderer class declares it needs no stdout TTY.
    expect((animated.renderer as unknown as { nonTTY: boolean }).nonTTY).toBe(true);
    for (const options of [verbose, animated]) {
      expect(options.exitOnError).toBe(true);
      expect(options.registerSignalListeners).toBe(false);
    }
  });

  it("colours only when io/env allows it (listr2 alone would colour CI logs)", async () => {
    const styles = async (stderrIsTTY: boolean, env: NodeJS.ProcessEnv, color?: boolean) => {
      const options = await listrOptions({
        renderer: "verbose",
        io: { stderr: new Capture(), stderrIsTTY, env },
        globals: { color },
      });
      return (options as { rendererOptions?: { color?: Record<string, (s: string) => string> } })
        .rendererOptions?.color;
    };
    const off = await styles(false, { CI: "true" });
    expect(off?.FAILED?.("x")).toBe("x");
    expect(Object.keys(off ?? {})).toContain("COMPLETED");
    expect((await styles(true, { NO_COLOR: "1" }))?.FAILED?.("x")).toBe("x");
    expect((await styles(true, {}, false))?.FAILED?.("x")).toBe("x");
    expect(await styles(true, {})).toBeUndefined();
  });

  it("writes one timestamped line per event to stderr, and the steps share their context", async () => {
    const t = target("verbose");
    const context = await runTasks(
      t,
      [
        {
          title: "first",
          task: (c: { seen: string[] }, task) => {
            task.output = "working on it";
            c.seen.push("first");
          },
        },
        { title: "second", task: (c: { seen: string[] }) => void c.seen.push("second") },
      ],
      { seen: [] as string[] },
    );
    expect(context.seen).toEqual(["first", "second"]);
    const text = (t.io.stderr as Capture).text;
    expect(text).toMatch(/\[STARTED\] \[\d\d:\d\d:\d\d\] first/);
    expect(text).toMatch(/\[OUTPUT\] \[\d\d:\d\d:\d\d\] working on it/);
    expect(text).toMatch(/\[COMPLETED\] \[\d\d:\d\d:\d\d\] second/);
  });

  it("stops at the first failure with the step's own error", async () => {
    const boom = new Error("boom");
    const ran: string[] = [];
    const run = runTasks(
      target("silent"),
      [
        {
          title: "a",
          task: () => {
            throw boom;
          },
        },
        { title: "b", task: () => void ran.push("b") },
      ],
      {},
    );
    await expect(run).rejects.toBe(boom);
    expect(ran).toEqual([]);
  });

  it("Ctrl-C during a step stops the list before the next one", async () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const run = runTasks(
      target("silent", controller.signal),
      [
        {
          title: "a",
          task: () => {
            ran.push("a");
            controller.abort();
          },
        },
        { title: "b", task: () => void ran.push("b") },
      ],
      {},
    );
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
    expect(ran).toEqual(["a"]);
  });
});
