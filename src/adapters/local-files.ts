/**
 * Files on this machine outside the project's own (the container tools' trust directories): whether they
 * can be written, what they hold now, and writing them so that a reader never sees half a file.
 */
import { constants } from "node:fs";
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Whether this process may create or replace `path`: the file's directory, or the nearest directory above
 * it that exists (which the missing ones would be made in), must be writable.
 */
export async function canWrite(path: string): Promise<boolean> {
  let dir = dirname(path);
  for (;;) {
    try {
      await access(dir, constants.F_OK);
      break;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return false;
      dir = parent;
    }
  }
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Writes through a temporary file beside it and a rename, creating the directories (0755) first. */
export async function writeTextAtomically(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.clouddrove-${process.pid}.tmp`;
  try {
    await writeFile(temporary, content, { mode });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
