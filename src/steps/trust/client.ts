/**
 * Installing the registry's CA for this machine's container tools: what each file would become (created,
 * updated, unchanged), whether this process has the rights, and the writes themselves.
 */
import { canWrite, readTextIfExists, writeTextAtomically } from "../../adapters/local-files.js";
import type { TrustFile } from "../../core/trust/client-files.js";
import { OperationError } from "../../errors.js";

export type FileAction = "created" | "updated" | "unchanged";

export interface PlannedFile extends TrustFile {
  action: FileAction;
  writable: boolean;
}

export async function planTrustFiles(files: TrustFile[]): Promise<PlannedFile[]> {
  return Promise.all(
    files.map(async (file) => {
      const now = await readTextIfExists(file.path).catch(() => undefined);
      const action: FileAction =
        now === undefined ? "created" : now === file.content ? "unchanged" : "updated";
      return { ...file, action, writable: action === "unchanged" || (await canWrite(file.path)) };
    }),
  );
}

/** Writes every file that changes; a failure names the file (those before it are written, and a re-run completes). */
export async function writeTrustFiles(files: PlannedFile[]): Promise<void> {
  for (const file of files) {
    if (file.action === "unchanged") continue;
    try {
      await writeTextAtomically(file.path, file.content);
    } catch (error) {
      throw new OperationError(`Could not write ${file.path}: ${(error as Error).message}`, {
        cause: error,
        hint: "Run clouddrove trust as root (sudo), or without the rights to see the commands to run.",
      });
    }
  }
}
