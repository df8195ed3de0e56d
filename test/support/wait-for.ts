/**
 * Waiting in tests: on a condition or a log line, with a deadline, never a
 * fixed sleep followed by a look at the logs (on a loaded machine the line
 * comes later; on an idle one the sleep is time lost).
 */

/** Resolves once `condition()` holds (checked every 20 ms); rejects naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until one of `lines` (a CapturingLogger's, which only grows) from
 * index `from` on matches `pattern`; resolves with it, or rejects after
 * `limitMs` saying what was logged meanwhile.
 */
export async function waitForLine(lines: string[], pattern: RegExp, limitMs = 10_000, from = 0): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const found = lines.slice(from).find((l) => pattern.test(l));
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${limitMs} ms; logged meanwhile:\n${lines.slice(from).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Calls `probe()` (every 50 ms) until `done(value)` holds and resolves with
 * that value: e.g. a metrics scrape until the counters got there. Rejects
 * naming `what` and the last value after `timeoutMs`.
 */
export async function waitForValue<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
