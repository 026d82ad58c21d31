/**
 * The streaming tar reader and the archive verifier, on archives crafted here byte by byte: ustar with
 * prefix-split names, pax and GNU long names, base-256 sizes, damaged headers, truncation; and registry
 * layouts that are complete or broken in each of the ways the verifier must notice.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readTar, type TarEntry, TarFormatError, TarParser } from "../../src/core/backup/tar-reader.js";
import {
  parseChecksumFile,
  SNAPSHOT_BLOB_LIST,
  type SnapshotBlobStore,
  verifyArchive,
} from "../../src/core/backup/verify.js";
import { UsageError } from "../../src/errors.js";

// --- a small tar writer for the tests ------------------------------------------------------------------

type Format = "ustar" | "pax" | "gnu";

function field(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value.slice(0, length), offset, "utf8");
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

interface HeaderOptions {
  name: string;
  size: number;
  type?: string;
  linkName?: string;
  prefix?: string;
  gnuMagic?: boolean;
  base256Size?: boolean;
}

function header(o: HeaderOptions): Buffer {
  const block = Buffer.alloc(512);
  field(block, 0, 100, o.name);
  field(block, 100, 8, octal(0o644, 8));
  field(block, 108, 8, octal(1000, 8));
  field(block, 116, 8, octal(1000, 8));
  if (o.base256Size) {
    block[124] = 0x80;
    block.writeUIntBE(o.size, 124 + 12 - 6, 6);
  } else field(block, 124, 12, octal(o.size, 12));
  field(block, 136, 12, octal(1_700_000_000, 12));
  block[156] = (o.type ?? "0").charCodeAt(0);
  field(block, 157, 100, o.linkName ?? "");
  if (o.gnuMagic) field(block, 257, 8, "ustar  \0");
  else {
    field(block, 257, 6, "ustar\0");
    field(block, 263, 2, "00");
  }
  field(block, 345, 155, o.prefix ?? "");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  field(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length++;
  return `${length}${body}`;
}

/** One entry in the given format; long names are written the way that format writes them. */
function entry(
  path: string,
  content: Buffer | undefined,
  format: Format,
  extra: Partial<HeaderOptions> = {},
): Buffer {
  const type = content === undefined ? "5" : (extra.type ?? "0");
  const size = content?.length ?? 0;
  const parts: Buffer[] = [];
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(path) > 100) {
    if (format === "gnu") {
      const long = Buffer.from(`${path}\0`);
      parts.push(
        header({ name: "././@LongLink", size: long.length, type: "L", gnuMagic: true }),
        padded(long),
      );
      name = path.slice(0, 100);
    } else if (format === "pax") {
      const records = Buffer.from(paxRecord("path", path));
      parts.push(header({ name: "PaxHeaders/x", size: records.length, type: "x" }), padded(records));
      name = path.slice(0, 100);
    } else {
      const cut = path.lastIndexOf("/", 155);
      prefix = path.slice(0, cut);
      name = path.slice(cut + 1);
    }
  }
  parts.push(header({ name, size, type, prefix, gnuMagic: format === "gnu", ...extra }));
  if (content) parts.push(padded(content));
  return Buffer.concat(parts);
}

/** Two zero blocks, padded to GNU tar's 10 KiB record. */
function endOfArchive(length: number): Buffer {
  const record = 10240;
  const total = Math.ceil((length + 1024) / record) * record;
  return Buffer.alloc(total - length);
}

function archive(entries: Buffer[]): Buffer {
  const body = Buffer.concat(entries);
  return Buffer.concat([body, endOfArchive(body.length)]);
}

function* chunks(data: Buffer, size: number): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function* stream(data: Buffer, size = 4096): AsyncGenerator<Uint8Array> {
  yield* chunks(data, size);
}

async function readAll(data: Buffer, size?: number): Promise<Array<TarEntry & { content: string }>> {
  const found: Array<TarEntry & { content: string }> = [];
  await readTar(stream(data, size), (e) => {
    const parts: Uint8Array[] = [];
    const item = { ...e, content: "" };
    found.push(item);
    return {
      data: (chunk) => parts.push(chunk.slice()),
      end: () => {
        item.content = Buffer.concat(parts).toString();
      },
    };
  });
  return found;
}

function flip(data: Buffer, at: number): void {
  data[at] = (data[at] ?? 0) ^ 0xff;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

// --- the tar reader --------------------------------------------------------------------------------------

describe("TarParser", () => {
  const longPath = `docker/registry/v2/repositories/team/app/_manifests/revisions/sha256/${"a".repeat(64)}/link`;

  it.each([1, 7, 511, 512, 513, 100_000])(
    "reads files and directories fed in chunks of %i bytes",
    async (size) => {
      const tar = archive([
        entry("docker/", undefined, "ustar"),
        entry("docker/hello.txt", Buffer.from("hello world\n"), "ustar"),
        entry("docker/exact.bin", Buffer.alloc(512, 7), "ustar"),
        entry("docker/empty", Buffer.alloc(0), "ustar"),
      ]);
      const found = await readAll(tar, size);
      expect(found.map((e) => [e.path, e.type, e.size])).toEqual([
        ["docker/", "directory", 0],
        ["docker/hello.txt", "file", 12],
        ["docker/exact.bin", "file", 512],
        ["docker/empty", "file", 0],
      ]);
      expect(found[1]?.content).toBe("hello world\n");
      expect(found[2]?.content).toBe(Buffer.alloc(512, 7).toString());
      expect(found[1]?.mode).toBe(0o644);
      expect(found[1]?.mtime).toBe(1_700_000_000);
    },
  );

  it.each<Format>(["ustar", "pax", "gnu"])("reads names longer than 100 characters (%s)", async (format) => {
    const tar = archive([entry(longPath, Buffer.from(`sha256:${"a".repeat(64)}`), format)]);
    const found = await readAll(tar, 300);
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe(longPath);
    expect(found[0]?.content).toBe(`sha256:${"a".repeat(64)}`);
  });

  it("applies a pax size record and a GNU long link name", async () => {
    const records = Buffer.from(paxRecord("size", "5") + paxRecord("linkpath", "target/".repeat(20)));
    const tar = archive([
      header({ name: "PaxHeaders/x", size: records.length, type: "x" }),
      padded(records),
      header({ name: "big.bin", size: 0 }),
      padded(Buffer.from("12345")),
    ]);
    const found = await readAll(tar);
    expect(found[0]?.size).toBe(5);
    expect(found[0]?.content).toBe("12345");
    expect(found[0]?.linkName).toBe("target/".repeat(20));
  });

  it("reads a size written in base-256 (GNU, for entries over 8 GiB)", async () => {
    const tar = archive([
      header({ name: "b256.bin", size: 3, base256Size: true }),
      padded(Buffer.from("abc")),
    ]);
    const found = await readAll(tar);
    expect(found[0]?.size).toBe(3);
    expect(found[0]?.content).toBe("abc");
  });

  it("refuses a header whose checksum is wrong, naming the offset", async () => {
    const tar = archive([
      entry("a.txt", Buffer.from("a"), "ustar"),
      entry("b.txt", Buffer.from("b"), "ustar"),
    ]);
    flip(tar, 1024 + 10); // inside the second header's name
    const error = await readAll(tar).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarFormatError);
    expect((error as TarFormatError).offset).toBe(1024);
    expect((error as Error).message).toMatch(/checksum/);
  });

  it("refuses a stream that stops inside an entry, and an empty stream", async () => {
    const tar = archive([entry("a.txt", Buffer.alloc(2000, 1), "ustar")]);
    await expect(readAll(tar.subarray(0, 1500))).rejects.toThrow(/truncated/);
    await expect(readAll(Buffer.alloc(0))).rejects.toThrow(/empty/);
  });

  it("stops at the end-of-archive blocks and ignores what follows", () => {
    const tar = archive([entry("a.txt", Buffer.from("a"), "ustar")]);
    const paths: string[] = [];
    const parser = new TarParser((e) => {
      paths.push(e.path);
      return undefined;
    });
    parser.write(Buffer.concat([tar, Buffer.from("trailing garbage that is not tar")]));
    parser.end();
    expect(parser.ended).toBe(true);
    expect(paths).toEqual(["a.txt"]);
    expect(parser.offset).toBe(tar.length + 32);
  });
});

// --- registry layouts ------------------------------------------------------------------------------------

const V2 = "docker/registry/v2";
const LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** A registry's files, written repositories first and blobs second, as archive.sh orders them. */
class RegistryFiles {
  repositories = new Map<string, Buffer>();
  blobs = new Map<string, Buffer>();

  blob(content: Buffer): string {
    const hex = sha256(content);
    this.blobs.set(`${V2}/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`, content);
    return hex;
  }

  link(repo: string, path: string, hex: string): void {
    this.repositories.set(`${V2}/repositories/${repo}/${path}`, Buffer.from(`sha256:${hex}`));
  }

  manifest(repo: string, body: object, tag?: string): string {
    const hex = this.blob(Buffer.from(JSON.stringify(body)));
    this.link(repo, `_manifests/revisions/sha256/${hex}/link`, hex);
    if (tag) {
      this.link(repo, `_manifests/tags/${tag}/current/link`, hex);
      this.link(repo, `_manifests/tags/${tag}/index/sha256/${hex}/link`, hex);
    }
    return hex;
  }

  image(repo: string, tag?: string, layers = 2): { manifest: string; config: string; layers: string[] } {
    const layerHexes = Array.from({ length: layers }, () => this.blob(randomBytes(700)));
    const config = this.blob(
      Buffer.from(JSON.stringify({ architecture: "amd64", rootfs: { diff_ids: [] } })),
    );
    for (const hex of [config, ...layerHexes]) this.link(repo, `_layers/sha256/${hex}/link`, hex);
    const manifest = this.manifest(
      repo,
      {
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: { digest: `sha256:${config}`, size: 1 },
        layers: layerHexes.map((hex) => ({ mediaType: LAYER, digest: `sha256:${hex}`, size: 700 })),
      },
      tag,
    );
    return { manifest, config, layers: layerHexes };
  }

  tar(format: Format = "gnu"): Buffer {
    const files = [...this.repositories, ...this.blobs];
    return archive(files.map(([path, content]) => entry(path, content, format)));
  }

  /** The snapshot archive.sh writes: the blob list and the metadata, no blob content. */
  snapshotTar(list = this.blobList()): Buffer {
    const files: Array<[string, Buffer]> = [[SNAPSHOT_BLOB_LIST, Buffer.from(list)], ...this.repositories];
    return archive(files.map(([path, content]) => entry(path, content, "gnu")));
  }

  blobList(): string {
    return [...this.blobs].map(([path, content]) => `${path.split("/").at(-2)} ${content.length}\n`).join("");
  }

  /** The bucket's blobs/, in memory: hex -> content. */
  store(): Map<string, Buffer> {
    return new Map([...this.blobs].map(([path, content]) => [path.split("/").at(-2) as string, content]));
  }
}

function blobStore(blobs: Map<string, Buffer>): SnapshotBlobStore {
  return {
    sizes: async () => new Map([...blobs].map(([hex, content]) => [hex, content.length])),
    read: async (hex) => stream(blobs.get(hex) ?? Buffer.alloc(0), 300),
  };
}

function healthyRegistry() {
  const files = new RegistryFiles();
  const app = files.image("library/app", "1.0");
  const amd = files.image("team/tools");
  const arm = files.image("team/tools");
  const index = files.manifest(
    "team/tools",
    {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { digest: `sha256:${amd.manifest}`, platform: { architecture: "amd64" } },
        { digest: `sha256:${arm.manifest}`, platform: { architecture: "arm64" } },
      ],
    },
    "latest",
  );
  return { files, app, amd, arm, index };
}

describe("verifyArchive", () => {
  it.each<Format>(["gnu", "pax", "ustar"])(
    "passes a complete registry (%s names), counting what it holds",
    async (format) => {
      const { files } = healthyRegistry();
      const tar = files.tar(format);
      const report = await verifyArchive(stream(tar, 1000), {
        expectedSha256: sha256(tar),
        checkBlobDigests: true,
      });
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({
        ok: true,
        checksumOk: true,
        bytes: tar.length,
        sha256: sha256(tar),
        repositories: ["library/app", "team/tools"],
        tags: 2,
        manifests: 4,
        blobs: files.blobs.size,
        blobsChecked: files.blobs.size,
      });
    },
  );

  it("refuses a checksum mismatch, with both values in the message", async () => {
    const tar = healthyRegistry().files.tar();
    const wrong = "0".repeat(64);
    const report = await verifyArchive(stream(tar), { expectedSha256: wrong });
    expect(report.ok).toBe(false);
    expect(report.checksumOk).toBe(false);
    expect(report.problems[0]).toContain(wrong);
    expect(report.problems[0]).toContain(sha256(tar));
  });

  it.each(["docker/registry/v2/../../../etc/cron.d/x", "/etc/cron.d/x", "../outside"])(
    "refuses an archive holding the path %s, saying why",
    async (unsafe) => {
      const { files } = healthyRegistry();
      files.repositories.set(unsafe, Buffer.from("x"));
      const report = await verifyArchive(stream(files.tar("pax")));
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        `the archive holds the path "${unsafe}": absolute paths and ".." would write outside the registry's directory on a restore; refusing it`,
      ]);
    },
  );

  it("finds a layer missing from blobs/", async () => {
    const { files, app } = healthyRegistry();
    const layer = app.layers[0] as string;
    files.blobs.delete(`${V2}/blobs/sha256/${layer.slice(0, 2)}/${layer}/data`);
    const report = await verifyArchive(stream(files.tar()));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `library/app@sha256:${app.manifest}: blob sha256:${layer} is missing from blobs/`,
    ]);
  });

  it("finds a blob that is present but not linked into the repository", async () => {
    const { files, app } = healthyRegistry();
    files.repositories.delete(`${V2}/repositories/library/app/_layers/sha256/${app.config}/link`);
    const report = await verifyArchive(stream(files.tar()));
    expect(report.problems).toEqual([
      `library/app@sha256:${app.manifest}: blob sha256:${app.config} is not linked into library/app (_layers)`,
    ]);
  });

  it("finds an index whose child manifest is missing", async () => {
    const { files, arm, index } = healthyRegistry();
    files.repositories.delete(
      `${V2}/repositories/team/tools/_manifests/revisions/sha256/${arm.manifest}/link`,
    );
    const report = await verifyArchive(stream(files.tar()));
    expect(report.problems).toEqual([
      `team/tools@sha256:${index}: child manifest sha256:${arm.manifest} is missing`,
    ]);
  });

  it("warns about what was in flight during the backup, as restore.sh settles it", async () => {
    const { files, app } = healthyRegistry();
    // A tag moved to a manifest pushed after the revisions were listed: its history has the old one.
    const moved = "9".repeat(64);
    files.link("library/app", "_manifests/tags/1.0/current/link", moved);
    files.link("library/app", `_manifests/tags/1.0/index/sha256/${moved}/link`, moved);
    // A first push whose tag link was caught before it was written, and one pointing past the archive.
    files.repositories.set(
      `${V2}/repositories/library/app/_manifests/tags/half/current/link`,
      Buffer.alloc(0),
    );
    files.link("library/app", "_manifests/tags/ghost/current/link", "f".repeat(64));
    // A revision link caught between its creation and its write.
    const pending = "8".repeat(64);
    files.repositories.set(
      `${V2}/repositories/team/tools/_manifests/revisions/sha256/${pending}/link`,
      Buffer.alloc(0),
    );
    const report = await verifyArchive(stream(files.tar()));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tags).toBe(2); // 1.0 (on its previous manifest) and team/tools:latest
    expect(report.manifests).toBe(4);
    expect(report.warnings).toEqual([
      `team/tools: manifest sha256:${pending} was being pushed during the backup (left out)`,
      `library/app:1.0 points at sha256:${moved}, which is not in the archive (it changed during the backup); restore points it at its previous manifest`,
      "library/app:half has an empty link (it changed during the backup); restore leaves it out",
      `library/app:ghost points at sha256:${"f".repeat(64)}, which is not in the archive (it changed during the backup); restore leaves it out`,
    ]);
    expect(app.manifest).toMatch(/^[a-f0-9]{64}$/);
  });

  it("finds link files whose content disagrees with their place", async () => {
    const { files, app } = healthyRegistry();
    const layer = app.layers[0] as string;
    files.repositories.set(
      `${V2}/repositories/library/app/_layers/sha256/${layer}/link`,
      Buffer.from("sha256:00"),
    );
    const revision = `${V2}/repositories/library/app/_manifests/revisions/sha256/${app.manifest}/link`;
    files.repositories.set(revision, Buffer.from(`sha256:${"e".repeat(64)}`));
    const report = await verifyArchive(stream(files.tar()));
    expect(report.problems).toEqual([
      `library/app: layer link ${layer} holds "sha256:00"`,
      `library/app: revision link ${app.manifest} holds "sha256:${"e".repeat(64)}"`,
    ]);
  });

  it("finds a manifest whose own blob is missing", async () => {
    const { files, app } = healthyRegistry();
    files.blobs.delete(`${V2}/blobs/sha256/${app.manifest.slice(0, 2)}/${app.manifest}/data`);
    const report = await verifyArchive(stream(files.tar()));
    expect(report.problems).toEqual([
      `library/app@sha256:${app.manifest}: the manifest's blob is missing from blobs/`,
    ]);
  });

  it("finds a corrupt blob only when asked to hash blobs", async () => {
    const { files, app } = healthyRegistry();
    const layer = app.layers[1] as string;
    const path = `${V2}/blobs/sha256/${layer.slice(0, 2)}/${layer}/data`;
    const content = Buffer.from(files.blobs.get(path) as Buffer);
    content[10] = (content[10] ?? 0) ^ 0xff;
    files.blobs.set(path, content);
    const tar = files.tar();
    expect((await verifyArchive(stream(tar))).ok).toBe(true);
    const checked = await verifyArchive(stream(tar), { checkBlobDigests: true });
    expect(checked.problems).toEqual([
      `blob sha256:${layer} is corrupt: its content hashes to sha256:${sha256(content)}`,
    ]);
  });

  it("refuses an archive without registry data", async () => {
    const tar = archive([entry("etc/passwd", Buffer.from("root:x:0:0"), "gnu")]);
    const report = await verifyArchive(stream(tar));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(["the archive holds no registry data (docker/registry/v2/ expected)"]);
  });

  it("reports a damaged or truncated archive and still hashes every byte", async () => {
    const tar = healthyRegistry().files.tar();
    const damaged = Buffer.from(tar);
    // Each entry here is 4 blocks (long-name header, name, header, content): 512 * 4 is the second's header.
    flip(damaged, 512 * 4 + 20);
    const report = await verifyArchive(stream(damaged));
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/^the archive is damaged: .*(checksum|unreadable)/);
    expect(report.sha256).toBe(sha256(damaged));
    expect(report.bytes).toBe(damaged.length);

    const cut = tar.subarray(0, Math.floor(tar.length / 3));
    const truncated = await verifyArchive(stream(cut));
    expect(truncated.problems[0]).toMatch(/damaged: the archive is truncated/);
    expect(truncated.sha256).toBe(sha256(cut));
  });
});

describe("verifyArchive on a snapshot (metadata and blob list; blobs in the store)", () => {
  it("passes a complete snapshot: every listed blob in the store with its size, manifests read from it", async () => {
    const { files } = healthyRegistry();
    const tar = files.snapshotTar();
    const report = await verifyArchive(stream(tar, 700), {
      expectedSha256: sha256(tar),
      blobStore: blobStore(files.store()),
    });
    expect(report.problems).toEqual([]);
    const bytes = [...files.blobs.values()].reduce((sum, content) => sum + content.length, 0);
    expect(report).toMatchObject({ ok: true, snapshot: true, tags: 2, manifests: 4, blobBytes: bytes });
    expect(report.blobs).toBe(files.blobs.size);
    expect(report.blobsChecked).toBe(0);
  });

  it("finds a blob missing from the store, one of another size, and with --deep one corrupted", async () => {
    const { files, app } = healthyRegistry();
    const store = files.store();
    const [missing, resized] = app.layers as [string, string];
    store.delete(missing);
    store.set(resized, Buffer.concat([store.get(resized) as Buffer, Buffer.from("x")]));
    const corrupted = app.config;
    const original = store.get(corrupted) as Buffer;
    store.set(corrupted, Buffer.from(original.toString("utf8").replace("amd64", "arm64")));
    const shallow = await verifyArchive(stream(files.snapshotTar()), { blobStore: blobStore(store) });
    expect(shallow.problems).toEqual([
      `blob sha256:${missing} (700 bytes) is missing from the bucket`,
      `blob sha256:${resized} has 701 bytes in the bucket, the snapshot lists 700`,
      `library/app@sha256:${app.manifest}: blob sha256:${missing} is missing from blobs/`,
      `library/app@sha256:${app.manifest}: blob sha256:${resized} is missing from blobs/`,
    ]);
    const deep = await verifyArchive(stream(files.snapshotTar()), {
      blobStore: blobStore(store),
      checkBlobDigests: true,
    });
    expect(deep.problems).toContain(
      `blob sha256:${corrupted} is corrupt: its content hashes to sha256:${sha256(store.get(corrupted) as Buffer)}`,
    );
    expect(deep.blobsChecked).toBe(files.blobs.size - 3);
  });

  it("refuses a snapshot without a store to check its blobs in, and a malformed blob list", async () => {
    const { files } = healthyRegistry();
    const alone = await verifyArchive(stream(files.snapshotTar()));
    expect(alone.ok).toBe(false);
    expect(alone.problems[0]).toMatch(/^this is a snapshot: its blobs are in the bucket/);
    const malformed = await verifyArchive(stream(files.snapshotTar(`${files.blobList()}not-a-digest 12\n`)), {
      blobStore: blobStore(files.store()),
    });
    expect(malformed.problems).toEqual([`${SNAPSHOT_BLOB_LIST}: malformed line "not-a-digest 12"`]);
  });
});

describe("parseChecksumFile", () => {
  it("reads sha256sum's format", () => {
    const hex = "ab".repeat(32);
    expect(parseChecksumFile(`${hex}  20250131T030000Z.tar\n`)).toBe(hex);
  });

  it.each(["", "not a checksum", `${"g".repeat(64)}  x.tar`])("refuses %j", (text) => {
    expect(() => parseChecksumFile(text)).toThrow(UsageError);
  });
});
