/**
 * The registry's lock (a coordination.k8s.io/v1 Lease) against the sandbox's API server: of takers racing
 * exactly one wins, the others are refused naming the holder or wait for it; an expired lease is taken
 * over and said so; a release frees only the run's own lease; the lease is renewed while it is held.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSandbox, type TestSandbox } from "../../sandbox/test/support/sandbox.js";
import type { Kube } from "../../src/adapters/kube.js";
import { connectKube } from "../../src/adapters/kube.js";
import { LOCK_LEASE_NAME, type LockHolder } from "../../src/core/lock/lease.js";
import { UsageError } from "../../src/errors.js";
import { acquireLock, type HeldLock } from "../../src/steps/lock.js";

const NS = "default";
const holder = (name: string, command = "deploy"): LockHolder => ({
  who: `${name}@host`,
  pid: 100,
  command,
  identity: `${name}@host/100/${Math.random().toString(16).slice(2)}`,
});

describe("the registry lock", () => {
  let t: TestSandbox;
  let kube: Kube;
  const lease = () =>
    t.sandbox.store.get("Lease", NS, LOCK_LEASE_NAME) as
      | { metadata: { resourceVersion: string }; spec: { holderIdentity?: string; renewTime?: string } }
      | undefined;

  beforeAll(async () => {
    t = await startTestSandbox();
    kube = await connectKube({ kubeconfigPath: t.kubeconfigPath, env: {} });
  });
  afterAll(async () => {
    kube?.http.close();
    await t?.stop();
  });

  it("of five runs taking it at once exactly one wins; the others are refused naming the holder", async () => {
    for (let round = 0; round < 3; round++) {
      const takers = ["a", "b", "c", "d", "e"].map((name) => holder(name, `upgrade --node ${name}`));
      const outcomes = await Promise.allSettled(takers.map((h) => acquireLock(kube, NS, h, { waitMs: 0 })));
      const won = outcomes.flatMap((o, i) =>
        o.status === "fulfilled" ? [{ lock: o.value, taker: takers[i] }] : [],
      );
      expect(won).toHaveLength(1);
      const winner = won[0] as { lock: HeldLock; taker: LockHolder };
      expect(lease()?.spec.holderIdentity).toBe(winner.taker.identity);
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled") continue;
        const error = outcome.reason as UsageError;
        expect(error).toBeInstanceOf(UsageError);
        expect(error.message).toContain(
          `${winner.taker.who} (pid 100) running \`clouddrove ${winner.taker.command}\` since`,
        );
        expect(error.hint).toContain("--wait-for-lock");
      }
      await winner.lock.release();
      expect(lease()).toBeUndefined();
    }
  });

  it("a second run with a wait gets the lock once the first releases it", async () => {
    const first = await acquireLock(kube, NS, holder("first"), { waitMs: 0 });
    const waits: string[] = [];
    const second = acquireLock(kube, NS, holder("second"), {
      waitMs: 60_000,
      waitText: "1m",
      pollMs: 20,
      onWait: (m) => waits.push(m),
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(lease()?.spec.holderIdentity).toContain("first@host");
    await first.release();
    const taken = await second;
    expect(lease()?.spec.holderIdentity).toContain("second@host");
    expect(waits).toHaveLength(1);
    expect(waits[0]).toContain("waiting for the registry lock (up to 1m)");
    expect(waits[0]).toContain("first@host");
    await taken.release();
  });

  it("takes over an expired lease and says whose it was", async () => {
    t.sandbox.store.create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: LOCK_LEASE_NAME,
        namespace: NS,
        annotations: { "clouddrove.io/lock-holder": "gone@laptop", "clouddrove.io/lock-command": "deploy" },
      },
      spec: {
        holderIdentity: "gone@laptop/1/dead",
        leaseDurationSeconds: 60,
        acquireTime: "2026-01-01T10:00:00.000000Z",
        renewTime: "2026-01-01T10:00:00.000000Z",
      },
    });
    const notices: string[] = [];
    const lock = await acquireLock(kube, NS, holder("new"), { waitMs: 0, onNotice: (m) => notices.push(m) });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("took over the registry lock from gone@laptop");
    expect(notices[0]).toContain("expired at 2026-01-01T10:01:00.000Z");
    expect(lease()?.spec.holderIdentity).toContain("new@host");
    await lock.release();
  });

  it("renews while held, and a release after a takeover leaves the new holder's lease", async () => {
    const notices: string[] = [];
    const lock = await acquireLock(kube, NS, holder("renewer"), {
      waitMs: 0,
      renewMs: 30,
      onNotice: (m) => notices.push(m),
    });
    const firstVersion = lease()?.metadata.resourceVersion;
    const firstRenew = lease()?.spec.renewTime;
    for (let i = 0; i < 100 && lease()?.metadata.resourceVersion === firstVersion; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(lease()?.metadata.resourceVersion).not.toBe(firstVersion);
    expect(lease()?.spec.renewTime).not.toBe(firstRenew);
    // Someone else takes it over (as after an expiry): the renewal notices, the release keeps off it.
    // biome-ignore lint/suspicious/noExplicitAny: the Lease as the store holds it
    const current: any = structuredClone(t.sandbox.store.get("Lease", NS, LOCK_LEASE_NAME));
    t.sandbox.store.update({ ...current, spec: { ...current.spec, holderIdentity: "other@host/1/x" } });
    for (let i = 0; i < 100 && notices.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await lock.release();
    expect(notices[0]).toContain("taken over by another run");
    expect(lease()?.spec.holderIdentity).toBe("other@host/1/x");
    t.sandbox.store.delete("Lease", NS, LOCK_LEASE_NAME);
  });
});
