/**
 * A Prompter that answers from a script, in order, and records every question. Each answer is checked
 * against the question's own validator, as a person's typing would be: an invalid scripted answer fails
 * the test instead of slipping through.
 */
import type { Prompter } from "../../src/io/prompter.js";

export type ScriptedAnswer = string | boolean | { interrupt: true };

export interface RecordedQuestion {
  kind: "input" | "password" | "select" | "confirm";
  message: string;
  default?: unknown;
  choices?: string[];
  /** What the terminal shows for each choice, where it differs from the value. */
  labels?: string[];
  /** Validation messages the script's answers produced before the accepted one. */
  rejected: string[];
}

export class ScriptedPrompter implements Prompter {
  readonly asked: RecordedQuestion[] = [];
  constructor(private readonly answers: ScriptedAnswer[]) {}

  private next(question: RecordedQuestion): ScriptedAnswer {
    this.asked.push(question);
    if (this.answers.length === 0) throw new Error(`unexpected question: ${question.message}`);
    const answer = this.answers.shift() as ScriptedAnswer;
    if (typeof answer === "object") {
      const error = new Error("User force closed the prompt with SIGINT");
      error.name = "ExitPromptError";
      throw error;
    }
    return answer;
  }

  private text(question: RecordedQuestion, validate?: (v: string) => string | undefined): string {
    for (;;) {
      const answer = this.next(question);
      const value = answer === "" && typeof question.default === "string" ? question.default : String(answer);
      const problem = validate?.(value);
      if (!problem) return value;
      question.rejected.push(problem);
      this.asked.pop();
    }
  }

  async input(q: Parameters<Prompter["input"]>[0]): Promise<string> {
    return this.text({ kind: "input", message: q.message, default: q.default, rejected: [] }, q.validate);
  }

  async password(q: Parameters<Prompter["password"]>[0]): Promise<string> {
    return this.text({ kind: "password", message: q.message, rejected: [] }, q.validate);
  }

  async select<T extends string>(q: Parameters<Prompter["select"]>[0] & { default?: T }): Promise<T> {
    const choices = q.choices.map((c) => c.value);
    const answer = this.next({
      kind: "select",
      message: q.message,
      default: q.default,
      choices,
      labels: q.choices.map((c) => c.name ?? c.value),
      rejected: [],
    });
    const value = answer === "" ? q.default : String(answer);
    if (!value || !choices.includes(value)) throw new Error(`'${value}' is not a choice of: ${q.message}`);
    return value as T;
  }

  async confirm(q: Parameters<Prompter["confirm"]>[0]): Promise<boolean> {
    const answer = this.next({ kind: "confirm", message: q.message, default: q.default, rejected: [] });
    return answer === "" ? Boolean(q.default) : Boolean(answer);
  }
}
