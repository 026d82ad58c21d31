/**
 * The registry password and http.secret. They never come from flags (visible in `ps`) or the config
 * file: the password comes from CLOUDDROVE_REGISTRY_PASSWORD, --registry-password-stdin, a prompt, or
 * is generated; on a live cluster `deploy` reads back what is already there instead of rotating it.
 */
import { randomBytes } from "node:crypto";
import { UsageError } from "../errors.js";
import type { Prompter } from "../io/prompter.js";
import { REGISTRY_PASSWORD_ENV } from "./settings.js";

export type SecretSource = "env" | "stdin" | "prompt" | "generated" | "cluster";

export interface ResolvedSecret {
  value: string;
  source: SecretSource;
}

/** 32 random bytes, URL-safe: long enough for http.secret and for a password nobody types. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

const MIN_PASSWORD_LENGTH = 12;

export function passwordProblem(value: string): string | undefined {
  if (value.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (value.includes(":") || /[\r\n]/.test(value))
    return "no ':' and no line breaks (htpasswd and Basic auth use them)";
  return undefined;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

export interface PasswordInputs {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  fromStdin: boolean;
  interactive: boolean;
  prompter: Prompter;
}

/** Where a command's password may come from: its environment, stdin (when asked), or its prompter. */
export function passwordInputs(
  ctx: {
    io: { env: NodeJS.ProcessEnv; stdin: NodeJS.ReadableStream };
    interactive: boolean;
    prompter: Prompter;
  },
  fromStdin: boolean,
): PasswordInputs {
  return {
    env: ctx.io.env,
    stdin: ctx.io.stdin,
    fromStdin,
    interactive: ctx.interactive,
    prompter: ctx.prompter,
  };
}

export async function resolveRegistryPassword(inputs: PasswordInputs): Promise<ResolvedSecret> {
  const check = (value: string, from: string): string => {
    const problem = passwordProblem(value);
    if (problem) {
      throw new UsageError(`The registry password from ${from} is not acceptable: it needs ${problem}.`, {
        hint: `Choose another password, or unset ${REGISTRY_PASSWORD_ENV} to have one generated.`,
      });
    }
    return value;
  };
  const fromEnv = inputs.env[REGISTRY_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "")
    return { value: check(fromEnv, REGISTRY_PASSWORD_ENV), source: "env" };
  if (inputs.fromStdin) {
    const value = (await readAll(inputs.stdin)).replace(/\r?\n$/, "");
    return { value: check(value, "stdin"), source: "stdin" };
  }
  if (inputs.interactive) {
    const value = await inputs.prompter.password({
      message: "Registry password (Enter to generate one)",
      validate: (v) => (v === "" ? undefined : passwordProblem(v) && `Needs ${passwordProblem(v)}.`),
    });
    if (value !== "") return { value, source: "prompt" };
  }
  return { value: generateSecret(), source: "generated" };
}

/** The htpasswd line the registry authenticates against: bcrypt only (other hashes are silently ignored). */
export async function htpasswdLine(username: string, password: string): Promise<string> {
  const { hash } = await import("bcryptjs");
  return `${username}:${await hash(password, 10)}`;
}
