/**
 * The watch verb over HTTP: a chunked response of JSON lines ({"type":..., "object":...}), from a
 * resourceVersion; a version that is too old answers 200 with one ERROR event carrying a 410 Expired
 * Status, as a real server does. timeoutSeconds ends the stream; injected faults can cut it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultDecision } from "../faults.js";
import type { MemoryStore, WatchOptions } from "../store.js";
import { ApiError, type KubeObject, type WatchEvent } from "../types.js";
import type { Json } from "./json.js";

export interface WatchStreamOptions extends WatchOptions {
  kind: string;
  timeoutSeconds?: number;
  /** Turns each event's object into what the client asked for (a Table for `kubectl get -w`). */
  render?: (object: KubeObject) => Json;
  cut?: FaultDecision["cutWatch"];
}

export class WatchStreams {
  private readonly open = new Set<() => void>();

  /** Ends every open watch (the server is stopping). */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  serve(req: IncomingMessage, res: ServerResponse, store: MemoryStore, options: WatchStreamOptions): void {
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
      "Cache-Control": "no-cache, private",
    });
    res.flushHeaders();
    let ended = false;
    let sent = 0;
    let unsubscribe: (() => void) | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (reset = false) => {
      if (ended) return;
      ended = true;
      unsubscribe?.();
      for (const timer of timers) clearTimeout(timer);
      this.open.delete(finish);
      if (reset) req.socket.destroy();
      else res.end();
    };
    const send = (event: { type: string; object: Json }) => {
      if (ended) return;
      res.write(`${JSON.stringify(event)}\n`);
      sent++;
      const cut = options.cut;
      if (cut?.afterEvents !== undefined && sent >= cut.afterEvents) finish(cut.mode === "reset");
    };
    this.open.add(finish);
    req.on("close", () => finish());
    const render = options.render ?? ((object: KubeObject) => object);
    try {
      unsubscribe = store.watch(options.kind, options, (event: WatchEvent) =>
        send({ type: event.type, object: render(event.object) }),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const status = error.toStatus();
      if (status.details === undefined) delete status.details;
      send({ type: "ERROR", object: status });
      finish();
      return;
    }
    if (ended) {
      unsubscribe();
      return;
    }
    if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
      timers.push(setTimeout(() => finish(), options.timeoutSeconds * 1000));
    }
    if (options.cut?.afterMs !== undefined) {
      const mode = options.cut.mode;
      timers.push(setTimeout(() => finish(mode === "reset"), options.cut.afterMs));
    }
  }
}
