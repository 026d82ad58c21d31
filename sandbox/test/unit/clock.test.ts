import { describe, expect, it } from "vitest";
import { createClock, isManualClock, sleep } from "../../src/clock.js";

describe("manual clock", () => {
  it("only moves when advanced, and runs due tasks in time order", async () => {
    const clock = createClock({ manual: true, start: 1_000 });
    const ran: string[] = [];
    clock.after(300, () => ran.push(`b@${clock.now()}`));
    clock.after(100, () => ran.push(`a@${clock.now()}`));
    clock.after(900, () => ran.push(`c@${clock.now()}`));
    expect(clock.now()).toBe(1_000);
    await clock.advance!(500);
    expect(ran).toEqual(["a@1100", "b@1300"]);
    expect(clock.now()).toBe(1_500);
    await clock.advance!(400);
    expect(ran).toEqual(["a@1100", "b@1300", "c@1900"]);
  });

  it("runs tasks due at the same time in the order they were scheduled", async () => {
    const clock = createClock({ manual: true, start: 0 });
    const ran: number[] = [];
    for (let i = 0; i < 20; i++) clock.after(50, () => ran.push(i));
    await clock.advance!(50);
    expect(ran).toEqual([...Array(20).keys()]);
  });

  it("runs work scheduled by a task when it falls inside the advanced window, including zero delays", async () => {
    const clock = createClock({ manual: true, start: 0 });
    const ran: string[] = [];
    clock.after(10, () => {
      ran.push("first");
      clock.after(0, () => ran.push(`same-time@${clock.now()}`));
      clock.after(20, () => ran.push(`later@${clock.now()}`));
      clock.after(1_000, () => ran.push("too-late"));
    });
    await clock.advance!(100);
    expect(ran).toEqual(["first", "same-time@10", "later@30"]);
  });

  it("does not run cancelled tasks", async () => {
    const clock = createClock({ manual: true, start: 0 });
    const ran: string[] = [];
    const cancel = clock.after(10, () => ran.push("cancelled"));
    clock.after(10, () => ran.push("kept"));
    cancel();
    await clock.advance!(10);
    expect(ran).toEqual(["kept"]);
  });

  it("lets async code that sleeps on the clock progress during one advance", async () => {
    const clock = createClock({ manual: true, start: 0 });
    const steps: number[] = [];
    const flow = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 5_000);
        steps.push(clock.now());
      }
      return "done";
    })();
    await clock.advance!(60_000);
    expect(steps).toEqual([5_000, 10_000, 15_000]);
    await expect(flow).resolves.toBe("done");
  });

  it("serialises concurrent advances and keeps running after a task throws", async () => {
    const errors: unknown[] = [];
    const clock = createClock({ manual: true, start: 0, onError: (e) => errors.push(e) });
    const ran: number[] = [];
    clock.after(5, () => {
      throw new Error("boom");
    });
    clock.after(15, () => ran.push(clock.now()));
    await Promise.all([clock.advance!(10), clock.advance!(10)]);
    expect(clock.now()).toBe(20);
    expect(ran).toEqual([15]);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain("boom");
  });

  it("is recognisable as manual", () => {
    expect(isManualClock(createClock({ manual: true }))).toBe(true);
    const scaled = createClock({ speed: 10 });
    expect(isManualClock(scaled)).toBe(false);
    scaled.stop();
  });
});

describe("scaled clock", () => {
  it("moves simulated time at the speed factor and runs long simulated delays quickly, in order", async () => {
    const clock = createClock({ speed: 10_000, start: 0 });
    const ran: string[] = [];
    const done = new Promise<void>((resolve) => {
      clock.after(20_000, () => {
        ran.push("20s");
        resolve();
      });
    });
    clock.after(15_000, () => ran.push("15s"));
    clock.after(15_000, () => ran.push("15s-second"));
    await done;
    expect(ran).toEqual(["15s", "15s-second", "20s"]);
    expect(clock.now()).toBeGreaterThanOrEqual(20_000);
    clock.stop();
  });

  it("rejects a speed that is not positive", () => {
    expect(() => createClock({ speed: 0 })).toThrow(/positive/);
  });

  it("stops: pending tasks never run", async () => {
    const clock = createClock({ speed: 1_000, start: 0 });
    let ran = false;
    clock.after(1_000, () => {
      ran = true;
    });
    clock.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toBe(false);
  });
});
