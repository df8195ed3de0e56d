/** Longest peer-supplied field a log line carries, in characters, before it is cut with a marker. */
export const LOG_FIELD_MAX = 256;

// C0 and C1 controls, DEL, and the characters that break or reorder a line on a terminal or in a
// log viewer: line/paragraph separators, bidi embeddings, overrides and isolates, marks, the BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const HAS_UNSAFE = new RegExp(UNSAFE.source);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text that came from a peer (a certificate subject, an upstream's message, a
 * header), made safe for one log line: control, line-breaking and bidi
 * characters are escaped (`\n`, `\x1b`, `\u202e`), and anything longer than
 * `max` characters is cut with a marker saying how much was left out. A peer
 * can then neither forge log lines nor hide or reorder what a line says.
 */
export function logSafe(value: unknown, max = LOG_FIELD_MAX): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? text.slice(0, max) : text;
  const escaped = escapeLogText(cut);
  return text.length > max ? `${escaped}…[+${text.length - max} chars]` : escaped;
}

/**
 * `text` with the characters `logSafe` escapes escaped, and nothing cut: what
 * MtlsConsoleLogger does to every message. Its output holds none of those
 * characters, so escaping it again changes nothing: a line already made of
 * `logSafe` fields (all of nest-mtls' own) comes out as it went in.
 * `keepColours` keeps terminal colour codes (`ESC [ digits m`), for text
 * that a formatter coloured itself after escaping what it quoted.
 */
export function escapeLogText(text: string, keepColours = false): string {
  if (!HAS_UNSAFE.test(text)) return text;
  if (!keepColours) return text.replace(UNSAFE, escapeChar);
  return text.replace(UNSAFE, (c: string, offset: number) => (c === '\u001b' && COLOUR.test(text.slice(offset, offset + 16)) ? c : escapeChar(c)));
}

/** A terminal colour code (SGR) at the start of a string. */
const COLOUR = /^\u001b\[[0-9;]{0,12}m/;
