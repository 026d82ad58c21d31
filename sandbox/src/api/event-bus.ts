/**
 * Change events of the store: delivered to listeners in resourceVersion order, and kept in a bounded
 * history per kind so a watch can start from an older resourceVersion (or get 410 Expired when that
 * version is no longer kept, as etcd compaction makes a real server do).
 *
 * Delivery is synchronous but never re-entrant: a listener that writes to the store (a controller) has
 * its own event queued and delivered after the current one has reached every listener, so every
 * listener sees every event in the same order.
 */
import type { KubeObject, WatchEvent } from "../types.js";
import { tooOldError } from "./status-errors.js";

export interface ChangeEntry {
  rv: number;
  event: WatchEvent;
  /** The object before a MODIFIED change (lets filtered watches turn it into ADDED or DELETED). */
  previous?: KubeObject;
}

type EntryListener = (entry: ChangeEntry) => void;

interface History {
  entries: ChangeEntry[];
  /** The newest resourceVersion no longer kept: watches from an older version get 410. */
  compactedRv: number;
}

export class EventBus {
  private readonly histories = new Map<string, History>();
  private readonly listeners = new Map<string, Set<EntryListener>>();
  private readonly queue: Array<{ kind: string; entry: ChangeEntry }> = [];
  private dispatching = false;
  /** Kinds with no history yet still refuse versions compacted away before they were first used. */
  private compactedBefore = 0;

  constructor(
    private readonly historyLimit: number,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  private history(kind: string): History {
    let history = this.histories.get(kind);
    if (history === undefined) {
      history = { entries: [], compactedRv: this.compactedBefore };
      this.histories.set(kind, history);
    }
    return history;
  }

  emit(kind: string, entry: ChangeEntry): void {
    const history = this.history(kind);
    history.entries.push(entry);
    if (history.entries.length > this.historyLimit) {
      // Drop a chunk at a time so the array is not shifted on every event.
      const drop = history.entries.length - this.historyLimit + Math.ceil(this.historyLimit / 4);
      const dropped = history.entries.splice(0, Math.min(drop, history.entries.length - 1));
      history.compactedRv = dropped.at(-1)?.rv ?? history.compactedRv;
    }
    this.queue.push({ kind, entry });
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        for (const listener of [...(this.listeners.get(next.kind) ?? [])]) {
          try {
            listener(next.entry);
          } catch (error) {
            this.onListenerError(error);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  subscribe(kind: string, listener: EntryListener): () => void {
    let set = this.listeners.get(kind);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(kind, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Entries of a kind newer than `rv`; 410 Expired when some of them are no longer kept. */
  since(kind: string, rv: number): ChangeEntry[] {
    const history = this.history(kind);
    if (rv < history.compactedRv) throw tooOldError(rv, history.compactedRv);
    return history.entries.filter((entry) => entry.rv > rv);
  }

  /** Forgets all history up to `rv` (as etcd compaction does). */
  compact(rv: number): void {
    for (const history of this.histories.values()) {
      history.entries = history.entries.filter((entry) => entry.rv > rv);
      history.compactedRv = Math.max(history.compactedRv, rv);
    }
    this.compactedBefore = Math.max(this.compactedBefore, rv);
  }
}
