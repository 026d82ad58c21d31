/**
 * Waiting in real time for something a test cannot be told about (a process, a watch, a file), with a
 * deadline: what to wait for is named, so a time-out says what never happened.
 */

/**
 * Polls `check` every `pollMs` until it returns a value other than undefined/false and returns that value;
 * fails with "timed out waiting for WHAT" after `limitMs`.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false,
  limitMs = 30_000,
  pollMs = 25,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
