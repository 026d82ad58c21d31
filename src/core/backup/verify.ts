/**
 * Verifies a backup as it streams past, without writing it anywhere: the sha256 of the whole stream
 * against its .sha256 object, and that it holds a registry whose every manifest can be served -- each
 * tag points at a manifest revision, each manifest's blob is there, each image manifest's config and
 * layers are among the blobs and linked into its repository, each index's child manifests are revisions
 * of the same repository. Optionally every blob's own sha256 is checked too.
 *
 * Two formats: a snapshot (archive.sh today: the repository metadata plus clouddrove-snapshot/blobs, the
 * "<hex> <bytes>" list of the blobs it references, which live in the bucket's blobs/ once each) checked
 * against a SnapshotBlobStore; and a full archive of an earlier clouddrove (blobs/ inside the tar).
 */
import { createHash, type Hash } from "node:crypto";
import { UsageError } from "../../errors.js";
import { type TarEntry, type TarEntrySink, TarFormatError, TarParser } from "./tar-reader.js";

export interface VerifyOptions {
  /** The hex sha256 from the .sha256 object; without it only the layout is checked. */
  expectedSha256?: string;
  /** Hash every blob and compare with its name (a snapshot's blobs are read from the store for it). */
  checkBlobDigests?: boolean;
  /** Where a snapshot's blobs are; a snapshot cannot be verified without it. */
  blobStore?: SnapshotBlobStore;
}

/** The bucket's blobs, as a snapshot's verify needs them (the S3 adapter provides one). */
export interface SnapshotBlobStore {
  /** Every blob stored: hex digest -> bytes. */
  sizes(): Promise<Map<string, number>>;
  read(hex: string): Promise<AsyncIterable<Uint8Array>>;
}

export interface ArchiveReport {
  /** Bytes in the stream and their sha256 (hex). */
  bytes: number;
  sha256: string;
  /** undefined when no expected checksum was given. */
  checksumOk?: boolean;
  repositories: string[];
  tags: number;
  /** Manifest revisions, counted per repository. */
  manifests: number;
  blobs: number;
  /** Blobs whose content was hashed and matched (checkBlobDigests). */
  blobsChecked: number;
  /** A snapshot (its blobs in the bucket's blobs/) rather than a full archive. */
  snapshot: boolean;
  /** Bytes of the blobs it references. */
  blobBytes: number;
  problems: string[];
  /** What was in flight during the backup and what restore.sh does about it; not a reason to refuse. */
  warnings: string[];
  ok: boolean;
}

const V2 = "docker/registry/v2/";
/** The snapshot's list of the blobs it references, "<hex> <bytes>" per line (archive.sh writes it). */
export const SNAPSHOT_BLOB_LIST = "clouddrove-snapshot/blobs";
// A snapshot's blobs are read from the store this many at a time (manifests, and every blob with --deep).
const BLOB_READS_IN_PARALLEL = 8;
const HEX64 = /^[a-f0-9]{64}$/;
// Manifests are small JSON documents; anything larger is not kept in memory.
const MAX_JSON_BLOB = 4 * 1024 * 1024;
// One broken archive can produce thousands of identical findings; the first ones tell the story.
const MAX_PROBLEMS = 50;

interface Repository {
  revisions: Set<string>;
  layers: Set<string>;
  /** Tag -> the manifest its current/link names ("" when the link is empty). */
  tags: Map<string, string>;
  /** Tag -> every manifest it ever pointed at (its index/ links). */
  tagHistory: Map<string, Set<string>>;
}

/** The hex digest from a .sha256 object ("<hex>  <name>", sha256sum's format). */
export function parseChecksumFile(text: string): string {
  const hex = text.trim().split(/\s+/)[0] ?? "";
  if (!HEX64.test(hex)) {
    throw new UsageError("The archive's .sha256 object does not hold a sha256 checksum.", {
      hint: "The archive is incomplete or was not made by archive.sh; choose another archive (clouddrove backup list).",
    });
  }
  return hex;
}

function digestOf(link: string): string | undefined {
  const value = link.trim();
  return value.startsWith("sha256:") && HEX64.test(value.slice(7)) ? value.slice(7) : undefined;
}

/** An absolute path, or one with a ".." component: what no archive made by archive.sh holds. */
export function isUnsafePath(path: string): boolean {
  return path.startsWith("/") || path.split("/").includes("..");
}

class LayoutCollector {
  readonly repositories = new Map<string, Repository>();
  readonly blobs = new Map<string, { size: number }>();
  readonly json = new Map<string, Uint8Array>();
  /** A snapshot's blob list (hex -> bytes); undefined for a full archive. */
  listed?: Map<string, number>;
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  sawRegistry = false;
  blobsChecked = 0;

  constructor(private readonly checkBlobDigests: boolean) {}

  problem(message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(message);
    else if (this.problems.length === MAX_PROBLEMS) this.problems.push("... (further problems not listed)");
  }

  repository(name: string): Repository {
    let repo = this.repositories.get(name);
    if (!repo) {
      repo = { revisions: new Set(), layers: new Set(), tags: new Map(), tagHistory: new Map() };
      this.repositories.set(name, repo);
    }
    return repo;
  }

  onEntry(entry: TarEntry): TarEntrySink | undefined {
    // archive.sh writes relative paths below the storage root only; anything else would land outside the
    // registry's directory on a restore (GNU tar refuses it, busybox tar strips the "../" and writes it).
    if (isUnsafePath(entry.path)) {
      this.problem(
        `the archive holds the path "${entry.path}": absolute paths and ".." would write outside the registry's directory on a restore; refusing it`,
      );
      return undefined;
    }
    const path = entry.path.replace(/^\.\//, "");
    if (path === SNAPSHOT_BLOB_LIST && entry.type === "file") return this.blobList();
    if (!path.startsWith(V2)) return undefined;
    this.sawRegistry = true;
    if (entry.type !== "file") return undefined;
    const rest = path.slice(V2.length);
    if (rest.startsWith("blobs/")) return this.blob(rest, entry);
    if (rest.startsWith("repositories/")) return this.link(rest.slice("repositories/".length));
    return undefined;
  }

  private blobList(): TarEntrySink {
    const chunks: Uint8Array[] = [];
    return {
      data: (chunk) => chunks.push(chunk.slice()),
      end: () => {
        const listed = new Map<string, number>();
        for (const line of Buffer.concat(chunks).toString("utf8").split("\n")) {
          if (line.trim() === "") continue;
          const [hex = "", size = ""] = line.trim().split(" ");
          if (HEX64.test(hex) && /^\d+$/.test(size)) listed.set(hex, Number(size));
          else this.problem(`${SNAPSHOT_BLOB_LIST}: malformed line "${line.trim()}"`);
        }
        this.listed = listed;
      },
    };
  }

  /** The blob's content hashes to its name; counts it or records the problem. */
  checkDigest(hex: string, actual: string): void {
    if (actual === hex) this.blobsChecked++;
    else this.problem(`blob sha256:${hex} is corrupt: its content hashes to sha256:${actual}`);
  }

  private blob(rest: string, entry: TarEntry): TarEntrySink | undefined {
    const match = /^blobs\/sha256\/([a-f0-9]{2})\/([a-f0-9]{64})\/data$/.exec(rest);
    if (!match) return undefined;
    const [, shard, hex] = match as unknown as [string, string, string];
    if (!hex.startsWith(shard)) this.problem(`blob ${hex} is stored under the wrong directory ${shard}/`);
    this.blobs.set(hex, { size: entry.size });
    const hash: Hash | undefined = this.checkBlobDigests ? createHash("sha256") : undefined;
    const keep: Uint8Array[] | undefined = entry.size <= MAX_JSON_BLOB ? [] : undefined;
    let first = true;
    let keeping = keep !== undefined;
    return {
      data: (chunk) => {
        hash?.update(chunk);
        if (first) {
          keeping = keeping && chunk[0] === 0x7b; // "{": only JSON can be a manifest
          first = false;
        }
        if (keeping) keep?.push(chunk.slice());
      },
      end: () => {
        if (keeping && keep) this.json.set(hex, Buffer.concat(keep));
        if (hash) this.checkDigest(hex, hash.digest("hex"));
      },
    };
  }

  private link(rest: string): TarEntrySink | undefined {
    const match = /^(.+?)\/(_manifests|_layers|_uploads)\/(.*)$/.exec(rest);
    if (!match) return undefined;
    const [, name, kind, tail] = match as unknown as [string, string, string, string];
    const onLink = this.linkHandler(name, kind, tail);
    if (!onLink) return undefined;
    const chunks: Uint8Array[] = [];
    return {
      data: (chunk) => chunks.push(chunk.slice()),
      end: () => onLink(Buffer.concat(chunks).toString("utf8")),
    };
  }

  /** What a link file means, by its place under the repository; undefined for files we do not check. */
  private linkHandler(name: string, kind: string, tail: string): ((text: string) => void) | undefined {
    const repo = this.repository(name);
    if (kind === "_manifests") {
      const revision = /^revisions\/sha256\/([a-f0-9]{64})\/link$/.exec(tail)?.[1];
      if (revision) {
        return (text) => {
          if (text.trim() === "") {
            // Caught between the registry creating the file and writing it: restore.sh leaves it out.
            this.warnings.push(
              `${name}: manifest sha256:${revision} was being pushed during the backup (left out)`,
            );
          } else {
            if (digestOf(text) !== revision)
              this.problem(`${name}: revision link ${revision} holds "${text.trim()}"`);
            repo.revisions.add(revision);
          }
        };
      }
      const tag = /^tags\/([^/]+)\/current\/link$/.exec(tail)?.[1];
      if (tag) return (text) => repo.tags.set(tag, digestOf(text) ?? "");
      const history = /^tags\/([^/]+)\/index\/sha256\/([a-f0-9]{64})\/link$/.exec(tail);
      if (history) {
        const [, historyTag, hex] = history as unknown as [string, string, string];
        return () => {
          const seen = repo.tagHistory.get(historyTag) ?? new Set<string>();
          seen.add(hex);
          repo.tagHistory.set(historyTag, seen);
        };
      }
    }
    const layer = kind === "_layers" ? /^sha256\/([a-f0-9]{64})\/link$/.exec(tail)?.[1] : undefined;
    if (layer) {
      return (text) => {
        // The registry follows the link's content, not its path, to find the blob.
        if (digestOf(text) !== layer) this.problem(`${name}: layer link ${layer} holds "${text.trim()}"`);
        repo.layers.add(layer);
      };
    }
    return undefined;
  }

  /** After the whole stream: every reference must resolve. */
  checkReferences(): { tags: number; manifests: number } {
    let tags = 0;
    let manifests = 0;
    for (const [name, repo] of [...this.repositories].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [tag, hex] of repo.tags) {
        if (repo.revisions.has(hex)) {
          tags++;
          continue;
        }
        // A tag moved (or first pushed) while the backup ran: restore.sh points it at the newest manifest
        // of its history that the archive holds, or leaves it out.
        const fallback = [...(repo.tagHistory.get(tag) ?? [])].some((old) => repo.revisions.has(old));
        const what = hex ? `points at sha256:${hex}, which is not in the archive` : "has an empty link";
        if (fallback) tags++;
        this.warnings.push(
          `${name}:${tag} ${what} (it changed during the backup); ` +
            (fallback ? "restore points it at its previous manifest" : "restore leaves it out"),
        );
      }
      for (const hex of repo.revisions) {
        manifests++;
        this.checkManifest(name, repo, hex);
      }
    }
    return { tags, manifests };
  }

  private checkManifest(name: string, repo: Repository, hex: string): void {
    const where = `${name}@sha256:${hex}`;
    if (!this.blobs.has(hex)) {
      this.problem(`${where}: the manifest's blob is missing from blobs/`);
      return;
    }
    const bytes = this.json.get(hex);
    let manifest: ManifestJson;
    try {
      if (!bytes) throw new Error("not JSON");
      manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as ManifestJson;
    } catch {
      this.problem(`${where}: the manifest blob is not a readable JSON manifest`);
      return;
    }
    for (const child of manifest.manifests ?? []) {
      const childHex = digestOf(child.digest ?? "");
      if (!childHex) this.problem(`${where}: an index entry has no sha256 digest`);
      else if (!repo.revisions.has(childHex) || !this.blobs.has(childHex)) {
        this.problem(`${where}: child manifest sha256:${childHex} is missing`);
      }
    }
    const blobs = [
      ...(manifest.config ? [manifest.config] : []),
      ...(manifest.layers ?? []).filter((layer) => !layer.urls), // foreign layers live elsewhere
      ...(manifest.fsLayers ?? []).map((layer) => ({ digest: layer.blobSum })),
    ];
    for (const blob of blobs) {
      const blobHex = digestOf(blob.digest ?? "");
      if (!blobHex) this.problem(`${where}: a referenced blob has no sha256 digest`);
      else if (!this.blobs.has(blobHex))
        this.problem(`${where}: blob sha256:${blobHex} is missing from blobs/`);
      else if (!repo.layers.has(blobHex)) {
        this.problem(`${where}: blob sha256:${blobHex} is not linked into ${name} (_layers)`);
      }
    }
  }
}

interface ManifestJson {
  config?: { digest?: string };
  layers?: Array<{ digest?: string; urls?: string[] }>;
  manifests?: Array<{ digest?: string }>;
  fsLayers?: Array<{ blobSum?: string }>;
}

export async function verifyArchive(
  stream: AsyncIterable<Uint8Array>,
  options: VerifyOptions = {},
): Promise<ArchiveReport> {
  const collector = new LayoutCollector(options.checkBlobDigests ?? false);
  const parser = new TarParser((entry) => collector.onEntry(entry));
  const whole = createHash("sha256");
  let bytes = 0;
  let damaged = false;
  const damage = (error: unknown) => {
    if (!(error instanceof TarFormatError)) throw error;
    collector.problem(`the archive is damaged: ${error.message}`);
    damaged = true;
  };
  // Every byte is hashed, also after the tar reader has given up and after the end-of-archive blocks:
  // the checksum verdict is about the whole object.
  for await (const chunk of stream) {
    whole.update(chunk);
    bytes += chunk.length;
    if (damaged) continue;
    try {
      parser.write(chunk);
    } catch (error) {
      damage(error);
    }
  }
  if (!damaged) {
    try {
      parser.end();
    } catch (error) {
      damage(error);
    }
  }

  const sha256 = whole.digest("hex");
  const problems: string[] = [];
  let checksumOk: boolean | undefined;
  if (options.expectedSha256 !== undefined) {
    checksumOk = options.expectedSha256.toLowerCase() === sha256;
    if (!checksumOk) {
      problems.push(
        `checksum mismatch: the .sha256 object says ${options.expectedSha256}, the archive's ${bytes} bytes hash to ${sha256}`,
      );
    }
  }
  if (!collector.sawRegistry) {
    collector.problem("the archive holds no registry data (docker/registry/v2/ expected)");
  }
  if (collector.listed) await checkSnapshotBlobs(collector, collector.listed, options);
  const { tags, manifests } = collector.checkReferences();
  problems.push(...collector.problems);
  return {
    bytes,
    sha256,
    ...(checksumOk === undefined ? {} : { checksumOk }),
    repositories: [...collector.repositories.keys()].sort(),
    tags,
    manifests,
    blobs: collector.blobs.size,
    blobsChecked: collector.blobsChecked,
    snapshot: collector.listed !== undefined,
    blobBytes: [...collector.blobs.values()].reduce((sum, blob) => sum + blob.size, 0),
    problems,
    warnings: collector.warnings,
    ok: problems.length === 0,
  };
}

/**
 * A snapshot's blobs, in the store: every listed blob present with its size; the manifests among them
 * read (they are what checkReferences parses); with checkBlobDigests every blob hashed against its name.
 */
async function checkSnapshotBlobs(
  collector: LayoutCollector,
  listed: Map<string, number>,
  options: VerifyOptions,
): Promise<void> {
  const store = options.blobStore;
  if (!store) {
    collector.problem(
      "this is a snapshot: its blobs are in the bucket, and no blob store was given to check them",
    );
    return;
  }
  const stored = await store.sizes();
  const manifests = new Set([...collector.repositories.values()].flatMap((repo) => [...repo.revisions]));
  const toRead: string[] = [];
  for (const [hex, size] of listed) {
    const storedSize = stored.get(hex);
    if (storedSize === undefined) {
      collector.problem(`blob sha256:${hex} (${size} bytes) is missing from the bucket`);
      continue;
    }
    if (storedSize !== size) {
      collector.problem(
        `blob sha256:${hex} has ${storedSize} bytes in the bucket, the snapshot lists ${size}`,
      );
      continue;
    }
    collector.blobs.set(hex, { size });
    if (options.checkBlobDigests || (manifests.has(hex) && size <= MAX_JSON_BLOB)) toRead.push(hex);
  }
  const readOne = async (hex: string): Promise<void> => {
    const hash = options.checkBlobDigests ? createHash("sha256") : undefined;
    const isManifest = manifests.has(hex) && (listed.get(hex) ?? 0) <= MAX_JSON_BLOB;
    const keep: Uint8Array[] | undefined = isManifest ? [] : undefined;
    for await (const chunk of await store.read(hex)) {
      hash?.update(chunk);
      keep?.push(chunk);
    }
    if (keep) collector.json.set(hex, Buffer.concat(keep));
    if (hash) collector.checkDigest(hex, hash.digest("hex"));
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toRead.length) await readOne(toRead[next++] as string);
  };
  await Promise.all(Array.from({ length: BLOB_READS_IN_PARALLEL }, worker));
}
