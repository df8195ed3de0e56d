import { escapeLogText, logSafe } from 'nest-mtls/internal';
import { logSafeLogger } from 'nest-mtls/internal';
import { peerGroupOf } from 'nest-mtls/internal';
import { RepeatSummarizer, type LogFields } from 'nest-mtls/internal';

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

describe('RepeatSummarizer: one peer cannot blind the log for another', () => {
  /** A summariser writing into `lines` (and `fields`), with a window of 100 ms. */
  function summarizer(maxKinds?: number, maxKindsPerPeer?: number) {
    const lines: string[] = [];
    const fields: (LogFields | undefined)[] = [];
    const s = new RepeatSummarizer((l, f) => (lines.push(l), fields.push(f)), 100, maxKinds, maxKindsPerPeer);
    const refuse = (peer: string, kind: string, always = false) => s.report(`${peer}|${kind}`, () => `${kind} from ${peer}`, (n) => `${kind} from ${peer}: and ${n} more`, { peer }, undefined, { peer, always });
    return { s, lines, fields, refuse };
  }

  it('a peer past its own cap of kinds loses only its own lines, counted in one summary of its own', async () => {
    const { s, lines, fields, refuse } = summarizer(1000, 16);
    for (let i = 0; i < 1000; i++) refuse('127.0.0.5', `GET /users/1?n=${i}`);
    refuse('127.0.0.6', 'GET /users/1');
    expect(lines).toHaveLength(17);
    expect(lines.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, i) => `GET /users/1?n=${i} from 127.0.0.5`));
    expect(lines[16]).toBe('GET /users/1 from 127.0.0.6');
    expect(s.tracked).toBe(18); // 16 + its overflow + the other peer's
    s.flush();
    expect(lines[17]).toBe('984 more of other kinds from 127.0.0.5 in the last 0.1 s');
    expect(fields[17]).toEqual({ event: 'repeats_of_other_kinds', peer: '127.0.0.5', repeats: 984 });
  });

  it('when every window is taken, a new peer takes the heaviest peer\'s oldest one: 1,000 flooding addresses do not hide the next peer', async () => {
    const { s, lines, refuse } = summarizer(1000);
    for (let i = 0; i < 1000; i++) refuse(`127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, 'no_certificate');
    for (let i = 0; i < 1000; i++) refuse(`127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, 'no_certificate'); // repeats: counted
    expect(lines).toHaveLength(1000);
    refuse('127.0.0.2', 'no_certificate');
    expect(lines.at(-1)).toBe('no_certificate from 127.0.0.2');
    expect(s.tracked).toBe(1001); // 1000 windows, plus one counting the repeats of the window given up
    s.flush();
    expect(lines).toContain('1 more lines of peers past the 1000 kinds tracked, in the last 0.1 s');
  });

  it('a peer among the heaviest, when every window is taken, loses its own oldest kind, not another peer\'s', () => {
    const { s, lines, refuse } = summarizer(4, 10);
    for (let i = 0; i < 3; i++) refuse('A', `k${i}`);
    refuse('B', 'k0');
    refuse('A', 'k3'); // full, and A is the heaviest: counted for A
    expect(lines).toEqual(['k0 from A', 'k1 from A', 'k2 from A', 'k0 from B']);
    refuse('C', 'k0'); // lighter than A: takes A's oldest window
    expect(lines.at(-1)).toBe('k0 from C');
    refuse('B', 'k0'); // still open: a repeat
    expect(lines).toHaveLength(5);
    expect(s.tracked).toBeLessThanOrEqual(5);
    s.flush();
    expect(lines).toContain('k0 from B: and 1 more');
    expect(lines.some((l) => /more of other kinds from A/.test(l))).toBe(true);
  });

  it('a line marked always (a revoked certificate) is written however full the peer and the table are', () => {
    const { s, lines, refuse } = summarizer(2, 1);
    refuse('A', 'no_certificate');
    refuse('B', 'no_certificate');
    refuse('A', 'revoked', true);
    refuse('B', 'revoked', true);
    refuse('C', 'revoked', true);
    expect(lines).toEqual(['no_certificate from A', 'no_certificate from B', 'revoked from A', 'revoked from B', 'revoked from C']);
    expect(s.tracked).toBeLessThanOrEqual(3);
  });

  it('memory stays bounded under a flood of distinct peers, each of many kinds', () => {
    const { s, refuse } = summarizer(1000, 16);
    for (let p = 0; p < 20000; p++) for (let k = 0; k < 3; k++) refuse(`10.${p >> 8}.${p & 255}.1`, `k${k}`);
    expect(s.tracked).toBeLessThanOrEqual(1001);
    s.flush();
    expect(s.tracked).toBe(0);
  });

  it('windows close on their own: a peer\'s lines are written again after the window', async () => {
    const { lines, refuse } = summarizer(1000, 2);
    refuse('A', 'k0');
    refuse('A', 'k1');
    refuse('A', 'k2');
    await sleep(180);
    expect(lines).toEqual(['k0 from A', 'k1 from A', '1 more of other kinds from A in the last 0.1 s']);
    refuse('A', 'k2');
    expect(lines.at(-1)).toBe('k2 from A');
  });

  it('peerGroupOf: an IPv4 address as it is, an IPv6 address by its /64', () => {
    expect(peerGroupOf('127.0.0.5')).toBe('127.0.0.5');
    expect(peerGroupOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(peerGroupOf('2001:db8:1:2::7')).toBe('2001:db8:1:2::/64');
    expect(peerGroupOf('2001:0DB8:0001:0002::8')).toBe('2001:db8:1:2::/64');
    expect(peerGroupOf('::1')).toBe('0:0:0:0::/64');
    expect(peerGroupOf('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(peerGroupOf('unknown')).toBe('unknown');
  });
});

describe('escapeLogText and logSafeLogger', () => {
  it('escapes as logSafe does, without cutting; escaping logSafe output again changes nothing', () => {
    const hostile = 'x\n[Nest] 1 - LOG [ClientCertGuard] admitted\u2028\u202e\u001b[31m'.repeat(20);
    expect(escapeLogText(hostile)).toBe(logSafe(hostile, Infinity));
    expect(escapeLogText(logSafe(hostile))).toBe(logSafe(hostile));
    expect(escapeLogText('plain line')).toBe('plain line');
  });

  it('keeps terminal colour codes only when asked, and only those', () => {
    expect(escapeLogText('\u001b[33mwarn\u001b[39m \u001b]0;title\u0007', true)).toBe('\u001b[33mwarn\u001b[39m \\x1b]0;title\\x07');
    expect(escapeLogText('\u001b[33mwarn')).toBe('\\x1b[33mwarn');
  });

  it('logSafeLogger escapes string messages and passes the rest on', () => {
    const seen: unknown[][] = [];
    const inner = { log: (...a: unknown[]) => seen.push(['log', ...a]), error: (...a: unknown[]) => seen.push(['error', ...a]), warn: (...a: unknown[]) => seen.push(['warn', ...a]) };
    const logger = logSafeLogger(inner);
    logger.error('There is no matching event handler. Event pattern: a\n[Nest] forged', 'Server');
    const err = new Error('x');
    logger.warn(err);
    expect(seen).toEqual([
      ['error', 'There is no matching event handler. Event pattern: a\\n[Nest] forged', 'Server'],
      ['warn', err],
    ]);
    expect(logger.debug).toBeUndefined();
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
