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

/** Waits until `check()` is true; rejects after `limitMs` with `what`. */
export async function waitUntil(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
