/**
 * The only module that imports @inquirer/prompts (lazily, so commands that never ask pay nothing).
 * Commands depend on the Prompter interface; tests pass a scripted one. Ctrl-C at a prompt rejects with
 * inquirer's ExitPromptError, which cli.ts turns into exit 130 (see isPromptInterrupt).
 */

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
      return input(
        { message: q.message, default: q.default, validate: toInquirerValidate(q.validate) },
        context,
      );
    },
    async password(q) {
      const { password } = await load();
      return password({ message: q.message, mask: "*", validate: toInquirerValidate(q.validate) }, context);
    },
    async select(q) {
      const { select } = await load();
      return select({ message: q.message, choices: q.choices, default: q.default }, context);
    },
    async confirm(q) {
      const { confirm } = await load();
      return confirm({ message: q.message, default: q.default }, context);
    },
  };
}

/** Ctrl-C inside a prompt: inquirer rejects with ExitPromptError (AbortPromptError when aborted by signal). */
export function isPromptInterrupt(error: unknown): boolean {
  return error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError");
}
