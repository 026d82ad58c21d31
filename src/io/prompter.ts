/**
 * The only module that imports @inquirer/prompts (lazily, so commands that never ask pay nothing).
 * Commands depend on the Prompter interface; tests pass a scripted one.
 */
import { InterruptedError } from "../errors.js";

/** Returns an error message to show under the answer, or undefined when the answer is acceptable. */
export type AnswerValidator = (value: string) => string | undefined;

export interface Choice<T extends string = string> {
  value: T;
  name?: string;
  description?: string;
}

export interface Prompter {
  input(question: { message: string; default?: string; validate?: AnswerValidator }): Promise<string>;
  password(question: { message: string; validate?: AnswerValidator }): Promise<string>;
  select<T extends string>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  confirm(question: { message: string; default?: boolean }): Promise<boolean>;
}

function toInquirerValidate(validate?: AnswerValidator) {
  if (!validate) return undefined;
  return (value: string) => validate(value) ?? true;
}

/** Ctrl-C inside an inquirer prompt rejects with ExitPromptError: that is exit 130, never a stack trace. */
async function interruptible<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if (error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError")) {
      throw new InterruptedError("Interrupted at a prompt; nothing was changed.");
    }
    throw error;
  }
}

export interface InquirerPrompterOptions {
  input?: NodeJS.ReadableStream;
  /** Prompts are drawn on stderr so that stdout carries only the command's result. */
  output?: NodeJS.WritableStream;
}

export function createInquirerPrompter(options: InquirerPrompterOptions = {}): Prompter {
  const context = { input: options.input ?? process.stdin, output: options.output ?? process.stderr };
  const load = () => import("@inquirer/prompts");
  return {
    async input(q) {
      const { input } = await load();
      return interruptible(() =>
        input({ message: q.message, default: q.default, validate: toInquirerValidate(q.validate) }, context),
      );
    },
    async password(q) {
      const { password } = await load();
      return interruptible(() =>
        password({ message: q.message, mask: "*", validate: toInquirerValidate(q.validate) }, context),
      );
    },
    async select(q) {
      const { select } = await load();
      return interruptible(() =>
        select({ message: q.message, choices: q.choices, default: q.default }, context),
      );
    },
    async confirm(q) {
      const { confirm } = await load();
      return interruptible(() => confirm({ message: q.message, default: q.default }, context));
    },
  };
}
