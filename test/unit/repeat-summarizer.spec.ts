import { logSafe } from 'nest-mtls/logging/log-safe';
import { RepeatSummarizer } from 'nest-mtls/logging/repeat-summarizer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RepeatSummarizer', () => {
  it('writes the first line of a kind, counts repeats within the window, then writes one summary', async () => {
    const lines: string[] = [];
    const summarizer = new RepeatSummarizer((l) => lines.push(l), 100);
    for (let i = 0; i < 313; i++) summarizer.report('peer-a|no_certificate', () => 'refused A', (n, s) => `refused A: and ${n} more in the last ${s} s`);
    summarizer.report('peer-b|no_certificate', () => 'refused B', (n) => `B ${n}`);
    expect(lines).toEqual(['refused A', 'refused B']);
    await sleep(180);
    expect(lines).toEqual(['refused A', 'refused B', 'refused A: and 312 more in the last 0.1 s']);
    // After the window a new occurrence is written in full again.
    summarizer.report('peer-a|no_certificate', () => 'refused A', (n) => `A ${n}`);
    expect(lines[3]).toBe('refused A');
  });

  it('tracks at most maxKeys kinds; the rest are counted together', async () => {
    const lines: string[] = [];
    const summarizer = new RepeatSummarizer((l) => lines.push(l), 100, 2);
    for (let i = 0; i < 10; i++) summarizer.report(`peer-${i}`, () => `line ${i}`, (n) => `summary ${i} ${n}`);
    expect(lines).toEqual(['line 0', 'line 1']);
    summarizer.flush();
    expect(lines).toEqual(['line 0', 'line 1', '8 more of other kinds in the last 0.1 s']);
  });
});

describe('logSafe', () => {
  it('escapes control, line-breaking and bidi characters', () => {
    expect(logSafe('a\nb\r\tc\u001b[31m\u007f\u0085')).toBe('a\\nb\\r\\tc\\x1b[31m\\x7f\\x85');
    expect(logSafe('evil\u202egnp.exe\u2028x\u2029\u200e\u2066\ufeff')).toBe('evil\\u202egnp.exe\\u2028x\\u2029\\u200e\\u2066\\ufeff');
  });

  it('keeps ordinary text, UTF-8 and DN escapes as they are', () => {
    expect(logSafe('CN=api\\,O=Example,O=Zoë')).toBe('CN=api\\,O=Example,O=Zoë');
  });

  it('cuts long fields with a marker saying how much was left out', () => {
    expect(logSafe('x'.repeat(300))).toBe(`${'x'.repeat(256)}…[+44 chars]`);
    expect(logSafe('abcdef', 3)).toBe('abc…[+3 chars]');
  });
});
