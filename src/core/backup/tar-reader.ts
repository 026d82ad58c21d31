/**
 * A small streaming tar reader: ustar, plus the pax ('x') and GNU ('L'/'K') long-name records that GNU
 * tar and busybox tar write for paths over 100 characters (registry paths are ~150). It is a push parser:
 * feed it chunks as they arrive and it calls back per entry, so an archive of any size is checked without
 * being stored. Nothing here does I/O.
 */

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  path: string;
  type: TarEntryType;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkName?: string;
  /** Byte offset of the entry's header in the stream. */
  offset: number;
}

/** What to do with an entry's bytes; return undefined from onEntry to skip them. */
export interface TarEntrySink {
  data?(chunk: Uint8Array): void;
  end?(): void;
}

export class TarFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;
const decoder = new TextDecoder();

/** A NUL-terminated text field. */
function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul === -1 ? field : field.subarray(0, nul));
}

/** An octal number field, or GNU base-256 (high bit of the first byte set) for values over 8 GiB. */
function number(block: Uint8Array, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const digits = text(block, start, length).trim();
  if (digits === "") return 0;
  if (!/^[0-7]+$/.test(digits)) return Number.NaN;
  return Number.parseInt(digits, 8);
}

function checksumMatches(block: Uint8Array): boolean {
  const stored = number(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old writers summed signed chars; accept either, as GNU tar does.
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** pax extended header records: "<length> <key>=<value>\n" repeated. */
export function parsePaxRecords(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(decoder.decode(body.subarray(at, space)), 10);
    if (!Number.isFinite(length) || length <= 0 || at + length > body.length) break;
    const record = decoder.decode(body.subarray(space + 1, at + length - 1)); // drop the trailing "\n"
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function entryType(flag: string): TarEntryType {
  if (flag === "0" || flag === "\0" || flag === "" || flag === "7") return "file";
  if (flag === "5") return "directory";
  if (flag === "2") return "symlink";
  if (flag === "1") return "hardlink";
  return "other";
}

type Meta = "pax" | "gnu-name" | "gnu-link" | "global";

export class TarParser {
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  /** Bytes of the current entry's body still to come, then its padding. */
  private bodyLeft = 0;
  private padLeft = 0;
  private sink: TarEntrySink | undefined;
  /** A metadata record being collected (its body is the next entry's name or pax keys). */
  private meta: { kind: Meta; chunks: Uint8Array[] } | undefined;
  private pending: { path?: string; linkName?: string; size?: number } = {};
  private zeroBlocks = 0;
  private position = 0;
  private headerOffset = 0;
  /** True once the two zero blocks that end an archive were seen. */
  ended = false;
  entries = 0;

  constructor(private readonly onEntry: (entry: TarEntry) => TarEntrySink | undefined) {}

  /** Bytes consumed so far. */
  get offset(): number {
    return this.position;
  }

  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.body(chunk.subarray(at, at + take));
        this.bodyLeft -= take;
        at += take;
        this.position += take;
        if (this.bodyLeft === 0) this.finishBody();
      } else if (this.padLeft > 0) {
        const take = Math.min(this.padLeft, chunk.length - at);
        this.padLeft -= take;
        at += take;
        this.position += take;
      } else {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
        if (this.headerFill === 0) this.headerOffset = this.position;
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        this.position += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader(this.header);
        }
      }
    }
    // Whatever follows the end-of-archive blocks (padding to the record size) is not looked at.
    if (this.ended) this.position += chunk.length - at;
  }

  /** Call after the last chunk: throws when the stream stopped inside the archive. */
  end(): void {
    if (this.ended) return;
    const dangling = Object.keys(this.pending).length > 0; // a long-name record with no entry after it
    if (this.bodyLeft > 0 || this.padLeft > 0 || this.headerFill > 0 || this.meta || dangling) {
      throw new TarFormatError("the archive is truncated: it ends inside an entry", this.position);
    }
    // A lone zero block or none at all: GNU tar warns but accepts; so do we, when nothing is cut off.
    if (this.entries === 0 && this.zeroBlocks === 0) {
      throw new TarFormatError("the stream is empty: no tar archive", this.position);
    }
    this.ended = true;
  }

  private body(chunk: Uint8Array): void {
    if (this.meta) this.meta.chunks.push(chunk.slice());
    else this.sink?.data?.(chunk);
  }

  private finishBody(): void {
    if (this.meta) {
      this.applyMeta();
    } else {
      this.sink?.end?.();
      this.sink = undefined;
    }
  }

  private readHeader(block: Uint8Array): void {
    if (isZeroBlock(block)) {
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) this.ended = true;
      return;
    }
    if (this.zeroBlocks > 0) {
      throw new TarFormatError("a zero block inside the archive", this.headerOffset);
    }
    if (!checksumMatches(block)) {
      throw new TarFormatError(
        "a tar header with a wrong checksum: the archive is damaged",
        this.headerOffset,
      );
    }
    const flag = String.fromCharCode(block[156] ?? 0);
    const headerSize = number(block, 124, 12);
    if (!Number.isFinite(headerSize)) {
      throw new TarFormatError("a tar header with an unreadable size", this.headerOffset);
    }
    const meta: Meta | undefined =
      flag === "x"
        ? "pax"
        : flag === "L"
          ? "gnu-name"
          : flag === "K"
            ? "gnu-link"
            : flag === "g"
              ? "global"
              : undefined;
    if (meta) {
      this.meta = { kind: meta, chunks: [] };
      this.startBody(headerSize);
      if (headerSize === 0) this.applyMeta();
      return;
    }

    const magic = text(block, 257, 6);
    let path = text(block, 0, 100);
    // ustar splits long names into prefix + name; GNU's own format ("ustar  ") uses those bytes otherwise.
    if (magic === "ustar" && block[263] === 0x30 && block[264] === 0x30) {
      const prefix = text(block, 345, 155);
      if (prefix) path = `${prefix}/${path}`;
    }
    const entry: TarEntry = {
      path: this.pending.path ?? path,
      type: entryType(flag),
      size: this.pending.size ?? headerSize,
      mode: number(block, 100, 8),
      mtime: number(block, 136, 12),
      offset: this.headerOffset,
    };
    const linkName = this.pending.linkName ?? text(block, 157, 100);
    if (linkName) entry.linkName = linkName;
    this.pending = {};
    this.entries++;
    this.sink = this.onEntry(entry);
    this.startBody(entry.size);
    if (entry.size === 0) {
      this.sink?.end?.();
      this.sink = undefined;
    }
  }

  private startBody(size: number): void {
    this.bodyLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
  }

  private applyMeta(): void {
    const meta = this.meta;
    this.meta = undefined;
    if (!meta) return;
    const body = Buffer.concat(meta.chunks);
    if (meta.kind === "gnu-name") this.pending.path = text(body, 0, body.length);
    else if (meta.kind === "gnu-link") this.pending.linkName = text(body, 0, body.length);
    else if (meta.kind === "pax") {
      const records = parsePaxRecords(body);
      const path = records.get("path");
      const linkpath = records.get("linkpath");
      const size = records.get("size");
      if (path !== undefined) this.pending.path = path;
      if (linkpath !== undefined) this.pending.linkName = linkpath;
      if (size !== undefined && /^\d+$/.test(size)) this.pending.size = Number(size);
    }
    // Global pax records ('g') carry defaults such as charset or mtime: nothing we check.
  }
}

/** Feeds a whole stream through a parser; resolves when the stream ends. */
export async function readTar(
  stream: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarEntry) => TarEntrySink | undefined,
): Promise<{ entries: number; bytes: number }> {
  const parser = new TarParser(onEntry);
  for await (const chunk of stream) parser.write(chunk);
  parser.end();
  return { entries: parser.entries, bytes: parser.offset };
}
