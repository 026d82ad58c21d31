/**
 * The sandbox is a package of its own (@clouddrove/sandbox), installed only by those who want it: the CLI
 * loads it when a command asks for the sandbox, and says how to get it where it is missing. Its errors
 * become the CLI's, with the same exit codes (2: nothing changed; 1: it failed).
 */
import { OperationError, UsageError } from "../errors.js";

export type SandboxPackage = typeof import("@clouddrove/sandbox");

const PACKAGE = "@clouddrove/sandbox";

export const NOT_INSTALLED_HINT =
  "Install it beside clouddrove: `npm install -g clouddrove @clouddrove/sandbox`, or in a project `npm install --save-dev @clouddrove/sandbox`; with npx: `npx -p clouddrove -p @clouddrove/sandbox clouddrove sandbox up`.";

function isMissingPackage(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    String((error as Error).message).includes(PACKAGE)
  );
}

export async function loadSandboxPackage(
  importer: () => Promise<SandboxPackage> = () => import("@clouddrove/sandbox"),
): Promise<SandboxPackage> {
  try {
    return await importer();
  } catch (error) {
    if (!isMissingPackage(error)) throw error;
    throw new UsageError(`The sandbox is a separate package, ${PACKAGE}, and it is not installed.`, {
      hint: NOT_INSTALLED_HINT,
    });
  }
}

/** Runs a sandbox operation, turning the package's errors into the CLI's. */
export async function sandboxCall<T>(sandbox: SandboxPackage, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof sandbox.SandboxError) {
      const Kind = error.exitCode === 2 ? UsageError : OperationError;
      throw new Kind(error.message, { hint: error.hint, details: error.details, cause: error });
    }
    if (error instanceof sandbox.AlreadyRunningError) {
      const where = error.owner.url ? ` at ${error.owner.url}` : "";
      throw new UsageError(`The sandbox is already running (pid ${error.owner.pid}${where}).`, {
        hint: "Use it as it is (`clouddrove sandbox status`), or stop it with `clouddrove sandbox down`.",
      });
    }
    throw error;
  }
}

/** Simulated milliseconds per real millisecond: fast, but slow enough that progress is visible. */
export function sandboxSpeed(env: NodeJS.ProcessEnv): number {
  const speed = Number(env.CLOUDDROVE_SANDBOX_SPEED ?? 50);
  return Number.isFinite(speed) && speed > 0 ? speed : 50;
}
