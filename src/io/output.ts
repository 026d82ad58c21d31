/**
 * The I/O seam: a command's result goes to stdout (text, JSON or YAML); messages go to stderr.
 * Under -o json, stdout carries exactly one JSON document and nothing else.
 */
import type { OutputFormat } from "./env.js";
import { type Painter, painter } from "./paint.js";

export interface OutputStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class Output {
  readonly paint: Painter;
  constructor(
    private readonly streams: OutputStreams,
    readonly format: OutputFormat,
    color: boolean,
    private readonly verboseEnabled = false,
    /** Told when the result is written (the top-level catch then writes no error document). */
    private readonly onResult: () => void = () => {},
  ) {
    this.paint = painter(color);
  }

  /** The command's result: `data` for json/yaml, `text()` for text. (yaml is loaded only when asked for.) */
  async result(data: unknown, text: () => string): Promise<void> {
    this.onResult();
    if (this.format === "json") this.streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else if (this.format === "yaml") {
      const { toYaml } = await import("../core/yaml/emit.js");
      this.streams.stdout.write(toYaml(data));
    } else {
      const body = text();
      if (body !== "") this.streams.stdout.write(body.endsWith("\n") ? body : `${body}\n`);
    }
  }

  /** Raw text to stdout (e.g. a YAML stream that is itself the result). */
  stdout(text: string): void {
    this.onResult();
    this.streams.stdout.write(text);
  }

  info(message: string): void {
    this.streams.stderr.write(`${message}\n`);
  }

  success(message: string): void {
    this.streams.stderr.write(`${this.paint.green("✔")} ${message}\n`);
  }

  warn(message: string): void {
    this.streams.stderr.write(`${this.paint.yellow("!")} ${this.paint.yellow("Warning:")} ${message}\n`);
  }

  verbose(message: string): void {
    if (this.verboseEnabled) this.streams.stderr.write(`${this.paint.dim(message)}\n`);
  }

  get stderr(): NodeJS.WritableStream {
    return this.streams.stderr;
  }
}
