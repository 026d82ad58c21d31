/**
 * src/adapters/kube-watch.ts, the one watch engine, against the sandbox's API server: list, then watch
 * from the list's resourceVersion; a cut watch resumed from the last version; 410 Gone (as an event or as
 * the answer to the watch) relisted; a watch that would not start retried; the deadline; Ctrl-C. And
 * kube.ts's waitFor/waitForDeletion, which use it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import { until } from "../../sandbox/test/support/wait.js";
import { connectKube, type Kube } from "../../src/adapters/kube.js";
import { Kinds, named } from "../../src/adapters/kube-kinds.js";
import { waitUntil } from "../../src/adapters/kube-watch.js";
import { InterruptedError, OperationError } from "../../src/errors.js";

let t: TestSandbox;
let kube: Kube;
let serial = 0;
let name: string;

beforeAll(async () => {
  t = await startTestSandbox();
  kube = await connectKube({ kubeconfigText: t.sandbox.kubeconfig(), env: {} });
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(() => {
  t.sandbox.faults.clear();
  name = `watched-${++serial}`;
});

const stats = () => ({ lists: 0, watches: 0 });
const target = () => ({ ...Kinds.ConfigMap, namespace: "default", fieldSelector: `metadata.name=${name}` });

function put(value: string) {
  const existing = t.sandbox.store.get("ConfigMap", "default", name);
  const object = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "default" },
    data: { v: value },
  };
  return existing
    ? t.sandbox.store.update({ ...existing, data: { v: value } })
    : t.sandbox.store.create(object);
}

const hasValue = (value: string) => (objects: Array<{ data?: Record<string, string> }>) =>
  objects[0]?.data?.v === value;

/** The watch ends after one event, `times` times. */
const cutAfterOneEvent = (times: number) =>
  t.sandbox.faults.add({
    verbs: ["watch"],
    path: "/configmaps$",
    action: { type: "cutWatch", afterEvents: 1 },
    times,
  });

/**
 * Waits for v=3, changing the object from nothing to 1, 2, 3 — each change made only once the previous
 * one was seen, so every one arrives as a watch event. Returns what the wait saw.
 */
async function countToThree(counts: { lists: number; watches: number }) {
  const seen: string[] = [];
  const [cm] = await waitUntil(kube, target(), hasValue("3"), {
    timeoutMs: 30_000,
    stats: counts,
    onChange: ([c]) => {
      seen.push(c?.data?.v ?? "none");
      if (c?.data?.v !== "3") put(String(Number(c?.data?.v ?? 0) + 1));
    },
  });
  return { value: cm?.data?.v, seen };
}

describe("the watch engine", () => {
  it("lists once, then follows the watch until the condition holds", async () => {
    const counts = stats();
    expect(await countToThree(counts)).toEqual({ value: "3", seen: ["none", "1", "2", "3"] });
    expect(counts).toEqual({ lists: 1, watches: 1 });
  });

  it("resumes a cut watch from the last version it saw, without listing again", async () => {
    cutAfterOneEvent(2);
    const counts = stats();
    // No change missed and none seen twice: each resumed watch started after the last event.
    expect(await countToThree(counts)).toEqual({ value: "3", seen: ["none", "1", "2", "3"] });
    expect(counts).toEqual({ lists: 1, watches: 3 });
    expect(t.sandbox.faults.state().rules).toEqual([]);
  });

  it("lists again when the version to resume from is gone (410 as a watch event)", async () => {
    // The first watch ends after one event; before it is resumed the history is compacted away.
    cutAfterOneEvent(1);
    const counts = stats();
    const [cm] = await waitUntil(kube, target(), hasValue("2"), {
      timeoutMs: 30_000,
      stats: counts,
      onChange: ([c]) => {
        if (c === undefined) put("1");
        else if (c.data?.v === "1") {
          put("2");
          t.sandbox.store.compact();
        }
      },
    });
    expect(cm?.data?.v).toBe("2");
    expect(counts).toEqual({ lists: 2, watches: 2 });
  });

  it("lists again when the watch itself is answered 410, and retries a watch answered 503", async () => {
    put("1");
    t.sandbox.faults.add({
      verbs: ["watch"],
      path: "/configmaps$",
      action: { type: "error", status: 410 },
      times: 1,
    });
    t.sandbox.faults.add({
      verbs: ["watch"],
      path: "/configmaps$",
      action: { type: "error", status: 503 },
      times: 3,
    });
    const counts = stats();
    const waiting = waitUntil(kube, target(), hasValue("2"), { timeoutMs: 30_000, stats: counts });
    // Changed only once every fault was spent: the last watch (after the 503s) delivers it.
    await until("every watch fault spent", () => t.sandbox.faults.state().rules.length === 0, 10_000);
    put("2");
    const [cm] = await waiting;
    expect(cm?.data?.v).toBe("2");
    // The first watch was answered 410 (it also spent one of the 503 rule's three: the first rule that
    // matches answers) and made it list again; the next two were answered 503 and retried.
    expect(counts).toEqual({ lists: 2, watches: 4 });
  });

  it("fails at the deadline saying what is stuck", async () => {
    put("1");
    const error = await waitUntil(kube, target(), hasValue("2"), {
      timeoutMs: 1_000,
      explainTimeout: ([c]) => `still v=${c?.data?.v}`,
      hint: "change it to 2",
    }).catch((e) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toBe("Timed out after 1 s waiting for ConfigMap: still v=1");
    expect(error.hint).toBe("change it to 2");
  });

  it("stops at once when the signal fires, however far the deadline", async () => {
    const controller = new AbortController();
    const waiting = waitUntil(kube, target(), hasValue("never"), {
      timeoutMs: 3_600_000,
      signal: controller.signal,
      onChange: () => setImmediate(() => controller.abort()),
    });
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
  });

  it("waitFor and waitForDeletion (by reference or by strings) watch one object", async () => {
    const ready = kube.waitFor(named(Kinds.ConfigMap, name, "default"), (c) => c.data?.v === "ready", 30_000);
    put("ready");
    expect((await ready).data?.v).toBe("ready");
    const gone = kube.waitForDeletion("v1", "ConfigMap", name, "default", 30_000);
    expect(await kube.delete(named(Kinds.ConfigMap, name, "default"))).toBe(true);
    await gone;
    expect(t.sandbox.store.get("ConfigMap", "default", name)).toBeUndefined();
    const late = await kube
      .waitFor("v1", "ConfigMap", name, "default", () => true, 1_000)
      .catch((e: unknown) => e as OperationError);
    expect((late as OperationError).message).toBe(
      `Timed out after 1 s waiting for ConfigMap: ${name} is not ready yet`,
    );
    expect((late as OperationError).hint).toBe(`See why: \`kubectl describe configmap ${name} -n default\`.`);
  });
});
