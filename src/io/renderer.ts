/**
 * Running a command's steps as a listr2 task list. The renderer follows io/env's decision: the animated
 * default on a terminal, one timestamped line per event ("verbose") in CI and without a terminal, nothing
 * under -o json. Everything it draws goes to stderr, so stdout stays the command's result. The first
 * failing step stops the list; Ctrl-C (io.signal) stops it before the next step starts, or during a step
 * whose Kubernetes calls it interrupts.
 * listr2 is loaded only when a command runs steps.
 */
import type { ListrTask } from "listr2";
import { InterruptedError } from "../errors.js";
import { colorEnabled, type RendererKind } from "./env.js";

export interface RendererTarget {
  renderer: RendererKind;
  io: { stderr: NodeJS.WritableStream; signal?: AbortSignal; env?: NodeJS.ProcessEnv; stderrIsTTY?: boolean };
  /** --no-color (commander's `color: false`). */
  globals?: { color?: boolean };
}

/**
 * Colour follows io/env (NO_COLOR, --no-color, TERM=dumb, non-terminal stderr). listr2's own detection
 * would colour CI logs, so without colour every style it applies is replaced by plain text.
 */
function wantsColor(target: RendererTarget): boolean {
  const env = target.io.env ?? {};
  return colorEnabled(
    { stdinIsTTY: false, stderrIsTTY: target.io.stderrIsTTY === true, env },
    target.globals ?? {},
  );
}

/** The options handed to `new Listr(...)` for this run (exported so other commands and tests can see them). */
export async function listrOptions(target: RendererTarget) {
  const { DefaultRenderer, LISTR_LOGGER_STYLE, ListrLogger, PRESET_TIMESTAMP, PRESET_TIMER, ProcessOutput } =
    await import("listr2");
  const stderr = target.io.stderr as NodeJS.WriteStream;
  const plain = (text: string) => text;
  const color = wantsColor(target);
  const noColor = color
    ? {}
    : {
        color: Object.fromEntries(Object.keys(LISTR_LOGGER_STYLE.color ?? {}).map((level) => [level, plain])),
        timer: { ...PRESET_TIMER, format: () => plain },
      };
  const timestamp = color ? PRESET_TIMESTAMP : { ...PRESET_TIMESTAMP, format: () => plain };
  // Both of listr2's "stdout" and "stderr" are our stderr: progress never reaches stdout.
  const processOutput = new ProcessOutput(stderr, stderr);
  const common = {
    exitOnError: true,
    // cli.ts owns SIGINT (io.signal); listr2's own handler would call process.exit.
    registerSignalListeners: false,
  };
  switch (target.renderer) {
    case "silent":
      return { ...common, renderer: "silent" as const };
    case "default":
      return {
        ...common,
        // listr2 would check process.stdout for a terminal; it draws on stderr, which io/env found to be one.
        renderer: class StderrRenderer extends DefaultRenderer {
          static override nonTTY = true;
        },
        rendererOptions: {
          logger: new ListrLogger({ useIcons: true, processOutput }),
          timer: PRESET_TIMER,
          collapseSubtasks: false,
          ...noColor,
        },
      };
    default:
      return {
        ...common,
        renderer: target.renderer === "simple" ? ("simple" as const) : ("verbose" as const),
        rendererOptions: {
          logger: new ListrLogger({ useIcons: false, processOutput }),
          timer: PRESET_TIMER,
          logTitleChange: true,
          ...noColor,
          timestamp,
        },
      };
  }
}

/**
 * Stop before a step when Ctrl-C came in during the previous one; a step that Ctrl-C stopped part-way
 * (the Kubernetes calls under way stop at once) is named.
 */
function interruptible<C>(task: ListrTask<C>, signal?: AbortSignal): ListrTask<C> {
  const run = task.task;
  const title = String(task.title ?? "the next step");
  return {
    ...task,
    task: async (context, wrapper) => {
      if (signal?.aborted) {
        throw new InterruptedError(`Interrupted before "${title}".`, {
          hint: "Nothing after the interrupted step ran; run the same command again to continue.",
        });
      }
      try {
        return await run(context, wrapper);
      } catch (error) {
        if (error instanceof InterruptedError && error.message === new InterruptedError().message) {
          throw new InterruptedError(`Interrupted during "${title}".`, {
            cause: error,
            hint: "That step stopped part-way and nothing after it ran; run the same command again to continue.",
          });
        }
        throw error;
      }
    },
  };
}

/** Runs the steps in order with `context` shared between them, and returns it. */
export async function runTasks<C extends object>(
  target: RendererTarget,
  tasks: ListrTask<C>[],
  context: C,
): Promise<C> {
  const { Listr } = await import("listr2");
  const options = await listrOptions(target);
  const list = new Listr<C>(
    tasks.map((t) => interruptible(t, target.io.signal)),
    { ...options, ctx: context } as never,
  );
  return list.run();
}
