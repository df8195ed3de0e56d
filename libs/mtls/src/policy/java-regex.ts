/**
 * Java regexes (java.util.regex.Pattern, Java 17, default flags) as
 * JavaScript RegExps that admit and refuse exactly the same strings under
 * `Matcher.matches()`, the whole-string match the article's Dropwizard filter
 * uses. A construct JavaScript cannot match exactly as Java does is refused,
 * naming it, never approximated. Checked against Java itself by
 * test/unit/jdk-dn.spec.ts.
 *
 * Translated exactly: literals (with Java's escapes: `\t \n \r \f \a \e
 * \0ooo \xhh \x{h...} \uhhhh \cX`, an escaped non-letter, `\Q...\E`), `.`
 * (Java's line terminators include U+0085), `^ $ \A \Z \z` (Java's `$` also
 * matches before a final line terminator), `\d \D \w \W \s \S` (ASCII, as in
 * Java), character classes with ranges and negation, groups (capturing,
 * named, non-capturing), look-ahead, bounded look-behind, greedy and lazy
 * quantifiers, alternation, and the inline flags `i` (Java's US-ASCII
 * case-insensitivity: `(?i)`, `(?i:...)`, `(?-i)`) and `s` (DOTALL).
 *
 * Refused: possessive quantifiers, atomic groups, backreferences, `\b \B`
 * (Java 17's word boundary counts every Unicode letter, JavaScript's only
 * ASCII), `\G`, `\p{...} \P{...}` (Java's POSIX, `java...`, block and script
 * classes, and Unicode versions differ), `\h \H \v \V \R \X \N{...}`, class
 * unions and intersections (`[a[b]]`, `[a&&b]`), the inline flags `d m u x U c`,
 * quantified assertions, a quantifier after a quantifier (`a{2}{3}`), and
 * unbounded look-behind.
 */

/** A Java regex JavaScript cannot match exactly as Java does, or that is not a valid Java regex. */
export class JavaRegexError extends Error {
  constructor(
    /** The construct, as written in the regex: `*+`, `(?>`, `\p{Lower}`. */
    readonly construct: string,
    /** Where it starts (a character index into the regex). */
    readonly index: number,
    /** Why it is refused, in words. */
    readonly reason: string,
    /** `unsupported`: valid Java that JavaScript cannot match exactly; `invalid`: Java would not compile it either. */
    readonly kind: 'unsupported' | 'invalid' = 'unsupported',
  ) {
    super(`${construct} at character ${index + 1}: ${reason}`);
    this.name = 'JavaRegexError';
  }
}

/** One code point of the regex; `quoted` when it came from inside `\Q...\E` (always a literal). */
interface Token {
  cp: number;
  quoted: boolean;
  /** Index (UTF-16) of the code point in the source. */
  at: number;
}

interface Flags {
  /** `(?i)`: US-ASCII case-insensitive. */
  i: boolean;
  /** `(?s)`: `.` matches line terminators too. */
  s: boolean;
}

type Range = [number, number];
const MAX_CODE_POINT = 0x10ffff;

const DIGITS: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
/** Java's `\s` without UNICODE_CHARACTER_CLASS: `[ \t\n\x0B\f\r]`. */
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20]];
/** Java's line terminators (what `.` does not match without DOTALL). */
const LINE_TERMINATORS = '\\n\\r\\u0085\\u2028\\u2029';
/** Java's `$` without MULTILINE: at the end, or before a line terminator that ends the input (`\r\n` counting as one). */
const JAVA_DOLLAR = '(?:$|(?=\\r\\n$)|(?=[\\r\\u0085\\u2028\\u2029]$)|(?<!\\r)(?=\\n$))';

function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalise(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function normalise(ranges: Range[]): Range[] {
  const sorted = ranges.map(([lo, hi]): Range => [lo, hi]).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else out.push(range);
  }
  return out;
}

/** Java's ASCII-only case-insensitivity on a class: every ASCII letter in it brings its other case. */
function withAsciiCase(ranges: Range[]): Range[] {
  const extra: Range[] = [];
  for (const [lo, hi] of ranges) {
    const upperLo = Math.max(lo, 0x41);
    const upperHi = Math.min(hi, 0x5a);
    if (upperLo <= upperHi) extra.push([upperLo + 0x20, upperHi + 0x20]);
    const lowerLo = Math.max(lo, 0x61);
    const lowerHi = Math.min(hi, 0x7a);
    if (lowerLo <= lowerHi) extra.push([lowerLo - 0x20, lowerHi - 0x20]);
  }
  return normalise([...ranges, ...extra]);
}

const isAsciiLetter = (cp: number) => (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
const isAsciiAlnum = (cp: number) => isAsciiLetter(cp) || (cp >= 0x30 && cp <= 0x39);
const isHex = (cp: number | undefined) => cp !== undefined && ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x46) || (cp >= 0x61 && cp <= 0x66));
const isOctal = (cp: number | undefined) => cp !== undefined && cp >= 0x30 && cp <= 0x37;
const isDigit = (cp: number | undefined) => cp !== undefined && cp >= 0x30 && cp <= 0x39;

/** One code point as a JavaScript (u-mode) regex atom, inside or outside a class. */
function codePoint(cp: number): string {
  return isAsciiAlnum(cp) ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

function classSource(ranges: Range[], negated: boolean): string {
  const body = ranges.map(([lo, hi]) => (lo === hi ? codePoint(lo) : `${codePoint(lo)}-${codePoint(hi)}`)).join('');
  return `[${negated ? '^' : ''}${body}]`;
}

/** Java's inline flags other than `i` and `s`, by the Pattern constant they stand for. */
const UNSUPPORTED_FLAGS: Readonly<Record<string, string>> = {
  d: 'UNIX_LINES',
  m: 'MULTILINE',
  u: 'UNICODE_CASE',
  x: 'COMMENTS',
  U: 'UNICODE_CHARACTER_CLASS',
  c: 'CANON_EQ',
};

/** What an atom is: assertions take no quantifier in JavaScript. */
interface Atom {
  source: string;
  assertion: boolean;
}

/** Splits the regex into code points, turning `\Q...\E` into quoted literals (as Java's removeQEQuoting does). */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let quoting = false;
  for (let at = 0; at < source.length; ) {
    const cp = source.codePointAt(at) as number;
    const width = cp > 0xffff ? 2 : 1;
    if (!quoting && cp === 0x5c && source[at + 1] === 'Q') {
      quoting = true;
      at += 2;
      continue;
    }
    if (quoting && cp === 0x5c && source[at + 1] === 'E') {
      quoting = false;
      at += 2;
      continue;
    }
    if (!quoting && cp === 0x5c && at + 1 < source.length) {
      // An escape: its next code point is never the start of \Q or \E.
      tokens.push({ cp, quoted: false, at });
      const next = source.codePointAt(at + 1) as number;
      tokens.push({ cp: next, quoted: false, at: at + 1 });
      at += 1 + (next > 0xffff ? 2 : 1);
      continue;
    }
    tokens.push({ cp, quoted: quoting, at });
    at += width;
  }
  return tokens;
}

class Translator {
  private pos = 0;
  private readonly groupNames = new Set<string>();
  /** Unbounded quantifiers seen so far (look-behind must have none inside). */
  private unbounded = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  translate(): string {
    const out = this.alternation({ i: false, s: false });
    if (this.pos < this.tokens.length) throw this.invalid(this.pos, ')', "an unmatched ')'");
    return out;
  }

  private at(index: number): number {
    return index < this.tokens.length ? this.tokens[index].at : this.source.length;
  }

  private text(from: number, to = this.pos): string {
    return this.source.slice(this.at(from), this.at(to));
  }

  private refuse(from: number, construct: string, reason: string): JavaRegexError {
    return new JavaRegexError(construct, this.at(from), reason);
  }

  private invalid(from: number, construct: string, what: string): JavaRegexError {
    return new JavaRegexError(construct, this.at(from), `not a valid Java regex (${what})`, 'invalid');
  }

  /** The code point at the cursor when it is syntax (not quoted), else undefined. */
  private raw(offset = 0): number | undefined {
    const token = this.tokens[this.pos + offset];
    return token && !token.quoted ? token.cp : undefined;
  }

  private rawIs(char: string, offset = 0): boolean {
    return this.raw(offset) === char.codePointAt(0);
  }

  private atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** alternation := sequence ('|' sequence)*; inline flags persist to the end of the enclosing group, across `|`. */
  private alternation(flags: Flags): string {
    const parts = [this.sequence(flags)];
    while (this.rawIs('|')) {
      this.pos++;
      parts.push(this.sequence(flags));
    }
    return parts.join('|');
  }

  private sequence(flags: Flags): string {
    let out = '';
    while (!this.atEnd() && !this.rawIs('|') && !this.rawIs(')')) {
      const start = this.pos;
      const atom = this.atom(flags);
      const quantifier = this.quantifier();
      if (atom === undefined) {
        if (quantifier !== undefined) throw this.invalid(start, this.text(start), 'a quantifier with nothing to repeat');
        continue;
      }
      if (quantifier !== undefined && atom.assertion) {
        throw this.refuse(start, this.text(start), 'a quantifier on an assertion, which JavaScript does not allow');
      }
      out += atom.source + (quantifier ?? '');
    }
    return out;
  }

  /** A quantifier at the cursor, as JavaScript writes it; undefined when there is none. */
  private quantifier(): string | undefined {
    const start = this.pos;
    let q: string;
    if (this.rawIs('*') || this.rawIs('+')) {
      q = String.fromCodePoint(this.raw() as number);
      this.pos++;
      this.unbounded++;
    } else if (this.rawIs('?')) {
      q = '?';
      this.pos++;
    } else if (this.rawIs('{')) {
      q = this.braces();
    } else {
      return undefined;
    }
    if (this.rawIs('?')) {
      q += '?';
      this.pos++;
    } else if (this.rawIs('+')) {
      this.pos++;
      throw this.refuse(start, this.text(start), 'a possessive quantifier, which JavaScript does not have');
    }
    if (this.rawIs('*') || this.rawIs('+') || this.rawIs('?')) throw this.invalid(this.pos, this.text(this.pos, this.pos + 1), 'a dangling quantifier');
    if (this.rawIs('{')) throw this.refuse(start, `${this.text(start)}{`, 'a quantifier after a quantifier, which JavaScript does not allow');
    return q;
  }

  /** `{n}`, `{n,}`, `{n,m}`. */
  private braces(): string {
    const start = this.pos;
    this.pos++; // {
    const number = (): number | undefined => {
      let digits = '';
      while (isDigit(this.raw())) {
        digits += String.fromCodePoint(this.raw() as number);
        this.pos++;
      }
      return digits === '' ? undefined : Number(digits);
    };
    const min = number();
    if (min === undefined) throw this.invalid(start, '{', 'illegal repetition');
    let max: number | undefined = min;
    if (this.rawIs(',')) {
      this.pos++;
      max = number();
    }
    if (!this.rawIs('}')) throw this.invalid(start, this.text(start, this.pos + 1), 'illegal repetition');
    this.pos++;
    if (min > 0x7fffffff || (max !== undefined && (max > 0x7fffffff || max < min))) throw this.invalid(start, this.text(start), 'illegal repetition range');
    if (max === undefined) {
      this.unbounded++;
      return `{${min},}`;
    }
    return max === min ? `{${min}}` : `{${min},${max}}`;
  }

  /** One atom; undefined for what matches nothing by itself (an inline flag group `(?i)`). */
  private atom(flags: Flags): Atom | undefined {
    const token = this.tokens[this.pos];
    if (token.quoted) {
      this.pos++;
      return { source: this.literal(token.cp, flags), assertion: false };
    }
    const start = this.pos;
    switch (token.cp) {
      case 0x28: // (
        return this.group(flags);
      case 0x5b: // [
        return { source: this.characterClass(flags), assertion: false };
      case 0x2e: // .
        this.pos++;
        return { source: flags.s ? '[^]' : `[^${LINE_TERMINATORS}]`, assertion: false };
      case 0x5e: // ^
        this.pos++;
        return { source: '^', assertion: true };
      case 0x24: // $
        this.pos++;
        return { source: JAVA_DOLLAR, assertion: true };
      case 0x5c: // \
        return this.escape(flags);
      case 0x2a: // *
      case 0x2b: // +
      case 0x3f: // ?
        throw this.invalid(start, String.fromCodePoint(token.cp), `dangling meta character '${String.fromCodePoint(token.cp)}'`);
      case 0x7b: // {
        throw this.invalid(start, '{', 'illegal repetition');
      default:
        this.pos++;
        return { source: this.literal(token.cp, flags), assertion: false };
    }
  }

  /** A literal code point, with Java's ASCII-only case-insensitivity under `(?i)`. */
  private literal(cp: number, flags: Flags): string {
    if (flags.i && isAsciiLetter(cp)) return classSource(withAsciiCase([[cp, cp]]), false);
    return codePoint(cp);
  }

  private group(outer: Flags): Atom | undefined {
    const start = this.pos;
    this.pos++; // (
    let prefix = '(';
    let assertion = false;
    let lookbehind = false;
    let flags: Flags = { ...outer };
    if (this.rawIs('?')) {
      this.pos++;
      if (this.rawIs(':')) {
        this.pos++;
        prefix = '(?:';
      } else if (this.rawIs('=') || this.rawIs('!')) {
        prefix = `(?${String.fromCodePoint(this.raw() as number)}`;
        this.pos++;
        assertion = true;
      } else if (this.rawIs('<') && (this.rawIs('=', 1) || this.rawIs('!', 1))) {
        prefix = `(?<${String.fromCodePoint(this.raw(1) as number)}`;
        this.pos += 2;
        assertion = true;
        lookbehind = true;
      } else if (this.rawIs('<')) {
        this.pos++;
        let name = '';
        while (this.raw() !== undefined && isAsciiAlnum(this.raw() as number)) {
          name += String.fromCodePoint(this.raw() as number);
          this.pos++;
        }
        if (!this.rawIs('>') || name === '' || !isAsciiLetter(name.codePointAt(0) as number)) {
          throw this.invalid(start, this.text(start, this.pos + 1), 'a group name must be an ASCII letter followed by letters and digits');
        }
        if (this.groupNames.has(name)) throw this.invalid(start, this.text(start, this.pos + 1), `the group name ${name} is already defined`);
        this.groupNames.add(name);
        this.pos++;
        prefix = `(?<${name}>`;
      } else if (this.rawIs('>')) {
        this.pos++;
        throw this.refuse(start, '(?>', 'an atomic group, which JavaScript does not have');
      } else {
        const set = this.inlineFlags(start, outer);
        if (this.rawIs(')')) {
          // (?i): applies from here to the end of the enclosing group.
          this.pos++;
          Object.assign(outer, set);
          return undefined;
        }
        if (!this.rawIs(':')) throw this.invalid(start, this.text(start, this.pos + 1), 'unknown inline modifier');
        this.pos++;
        prefix = '(?:';
        flags = set;
      }
    }
    const unboundedBefore = this.unbounded;
    const body = this.alternation(flags);
    if (!this.rawIs(')')) throw this.invalid(start, this.text(start, start + 1), 'unclosed group');
    this.pos++;
    if (lookbehind && this.unbounded > unboundedBefore) {
      throw this.refuse(start, this.text(start), 'a look-behind without a maximum length (Java has none to match it with)');
    }
    return { source: `${prefix}${body})`, assertion };
  }

  /** `(?is-s` ... up to `)` or `:`: the flags that result. Only `i` and `s` can be matched exactly. */
  private inlineFlags(start: number, outer: Flags): Flags {
    const flags = { ...outer };
    let on = true;
    while (!this.atEnd() && !this.rawIs(')') && !this.rawIs(':')) {
      const c = String.fromCodePoint(this.raw() ?? 0);
      if (c === '-' && on) {
        on = false;
      } else if (c === 'i' || c === 's') {
        flags[c] = on;
      } else if (c in UNSUPPORTED_FLAGS) {
        throw this.refuse(start, `${this.text(start)}${c}`, `the inline flag ${c} (${UNSUPPORTED_FLAGS[c]}) is not supported: JavaScript cannot match it exactly as Java does`);
      } else {
        throw this.invalid(start, this.text(start, this.pos + 1), 'unknown inline modifier');
      }
      this.pos++;
    }
    return flags;
  }

  /** An escape outside a class. */
  private escape(flags: Flags): Atom {
    const start = this.pos;
    this.pos++; // \
    if (this.atEnd()) throw this.invalid(start, '\\', 'a trailing backslash');
    const cp = this.tokens[this.pos].cp;
    const c = String.fromCodePoint(cp);
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.pos++;
        return { source: `\\${c}`, assertion: false };
      case 's':
      case 'S':
        this.pos++;
        return { source: classSource(SPACE, c === 'S'), assertion: false };
      case 'A':
        this.pos++;
        return { source: '^', assertion: true };
      case 'z':
        this.pos++;
        return { source: '$', assertion: true };
      case 'Z':
        this.pos++;
        return { source: JAVA_DOLLAR, assertion: true };
      case 'b':
      case 'B':
        this.pos++;
        throw this.refuse(start, this.text(start), "a word boundary: Java 17's counts every Unicode letter and digit as a word character, JavaScript's only ASCII ones");
      case 'G':
        this.pos++;
        throw this.refuse(start, '\\G', 'the end of the previous match, which JavaScript does not have');
      case 'k':
        this.pos++;
        throw this.refuse(start, this.text(start), 'a backreference (Java and JavaScript differ on groups that did not match)');
      default:
        if (isDigit(cp) && c !== '0') {
          this.pos++;
          throw this.refuse(start, this.text(start), 'a backreference (Java and JavaScript differ on groups that did not match)');
        }
        return { source: this.literal(this.escapedCodePoint(start, false), flags), assertion: false };
    }
  }

  /**
   * The code point of an escape that stands for one character (the cursor on
   * the character after the backslash); refuses the escapes that are classes
   * or constructs JavaScript cannot match exactly.
   */
  private escapedCodePoint(start: number, inClass: boolean): number {
    const cp = this.tokens[this.pos].cp;
    const c = String.fromCodePoint(cp);
    this.pos++;
    switch (c) {
      case 't':
        return 0x09;
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 'f':
        return 0x0c;
      case 'a':
        return 0x07;
      case 'e':
        return 0x1b;
      case '0':
        return this.octal(start);
      case 'x':
        return this.hexEscape(start);
      case 'u':
        return this.unicodeEscape(start);
      case 'c':
        if (this.atEnd()) throw this.invalid(start, '\\c', 'illegal control escape sequence');
        return this.tokens[this.pos++].cp ^ 64;
      case 'p':
      case 'P': {
        if (this.rawIs('{')) while (!this.atEnd() && !this.rawIs('}')) this.pos++;
        if (!this.atEnd()) this.pos++;
        throw this.refuse(start, this.text(start), "a \\p{...} class: Java's POSIX, java..., script and block classes and its Unicode version differ from JavaScript's");
      }
      case 'h':
      case 'H':
      case 'v':
      case 'V':
        throw this.refuse(start, this.text(start), `Java's ${c === 'h' || c === 'H' ? 'horizontal' : 'vertical'} white space class, which JavaScript does not have (its \\v is a single character)`);
      case 'R':
      case 'X':
        throw this.refuse(start, this.text(start), c === 'R' ? 'a line break matcher, which JavaScript does not have' : 'a grapheme cluster, which JavaScript does not have');
      case 'N':
        throw this.refuse(start, this.text(start), 'a character by name, which JavaScript does not have');
      default:
        if (inClass && (c === 'b' || c === 'B' || c === 'A' || c === 'z' || c === 'Z' || c === 'G' || c === 'k' || (isDigit(cp) && c !== '0'))) {
          throw this.invalid(start, this.text(start), 'not allowed in a character class');
        }
        if (cp < 0x80 && isAsciiLetter(cp)) throw this.invalid(start, this.text(start), 'illegal or unsupported escape sequence');
        return cp; // an escaped non-letter stands for itself
    }
  }

  /** `\0n`, `\0nn`, `\0mnn` (m at most 3). */
  private octal(start: number): number {
    if (!isOctal(this.raw())) throw this.invalid(start, this.text(start), 'illegal octal escape sequence');
    let value = (this.raw() as number) - 0x30;
    const first = value;
    this.pos++;
    if (isOctal(this.raw())) {
      value = value * 8 + (this.raw() as number) - 0x30;
      this.pos++;
      if (isOctal(this.raw()) && first <= 3) {
        value = value * 8 + (this.raw() as number) - 0x30;
        this.pos++;
      }
    }
    return value;
  }

  /** `\xhh` or `\x{h...h}`. */
  private hexEscape(start: number): number {
    if (isHex(this.raw()) && isHex(this.raw(1))) {
      const value = parseInt(String.fromCodePoint(this.raw() as number, this.raw(1) as number), 16);
      this.pos += 2;
      return value;
    }
    if (this.rawIs('{') && isHex(this.raw(1))) {
      this.pos++;
      let value = 0;
      while (isHex(this.raw())) {
        value = value * 16 + parseInt(String.fromCodePoint(this.raw() as number), 16);
        if (value > MAX_CODE_POINT) throw this.invalid(start, this.text(start), 'hexadecimal code point is too big');
        this.pos++;
      }
      if (!this.rawIs('}')) throw this.invalid(start, this.text(start), 'unclosed hexadecimal escape sequence');
      this.pos++;
      return value;
    }
    throw this.invalid(start, this.text(start), 'illegal hexadecimal escape sequence');
  }

  private uxxxx(start: number): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      if (!isHex(this.raw())) throw this.invalid(start, this.text(start), 'illegal Unicode escape sequence');
      value = value * 16 + parseInt(String.fromCodePoint(this.raw() as number), 16);
      this.pos++;
    }
    return value;
  }

  /** `\uhhhh`; a high surrogate followed by `\u` and a low surrogate is one code point, as in Java. */
  private unicodeEscape(start: number): number {
    const value = this.uxxxx(start);
    if (value >= 0xd800 && value <= 0xdbff && this.rawIs('\\') && this.rawIs('u', 1)) {
      const save = this.pos;
      this.pos += 2;
      try {
        const low = this.uxxxx(start);
        if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((value - 0xd800) << 10) + (low - 0xdc00);
      } catch {
        // not a second \uhhhh: read as it comes
      }
      this.pos = save;
    }
    return value;
  }

  /** `[...]`: ranges and single characters, `\d \w \s` and their negations; unions and intersections are refused. */
  private characterClass(flags: Flags): string {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.rawIs('^')) {
      negated = true;
      this.pos++;
    }
    if (this.rawIs(']')) {
      const closed = this.tokens.slice(this.pos + 1).some((t) => !t.quoted && t.cp === 0x5d);
      if (!closed) throw this.invalid(start, this.text(start, start + 1), 'unclosed character class');
      throw this.refuse(start, this.text(start, this.pos + 1), "a ']' first in a class (Java reads it as a character; write \\] instead)");
    }
    const ranges: Range[] = [];
    for (;;) {
      if (this.atEnd()) throw this.invalid(start, this.text(start, start + 1), 'unclosed character class');
      if (this.rawIs(']')) {
        this.pos++;
        break;
      }
      if (this.rawIs('[')) throw this.refuse(this.pos, '[', 'a class inside a class (a union), which JavaScript does not have');
      if (this.rawIs('&') && this.rawIs('&', 1)) throw this.refuse(this.pos, '&&', 'a class intersection, which JavaScript does not have');
      const itemStart = this.pos;
      const item = this.classItem();
      if (Array.isArray(item)) {
        if (this.rawIs('-') && !this.rawIs(']', 1)) throw this.refuse(this.pos, this.text(itemStart, this.pos + 1), "a '-' after a class in a class (write \\- for the character)");
        ranges.push(...item);
        continue;
      }
      if (this.rawIs('-') && !this.rawIs(']', 1) && this.pos + 1 < this.tokens.length) {
        this.pos++; // -
        if (this.rawIs('[')) throw this.refuse(this.pos, '[', 'a class inside a class (a union), which JavaScript does not have');
        const end = this.classItem();
        if (Array.isArray(end) || end < item) throw this.invalid(itemStart, this.text(itemStart), 'illegal character range');
        ranges.push([item, end]);
        continue;
      }
      ranges.push([item, item]);
    }
    const set = flags.i ? withAsciiCase(ranges) : normalise(ranges);
    return classSource(set, negated);
  }

  /** One member of a class: a code point, or the ranges of `\d \D \w \W \s \S`. */
  private classItem(): number | Range[] {
    const token = this.tokens[this.pos];
    if (token.quoted || token.cp !== 0x5c) {
      this.pos++;
      return token.cp;
    }
    const start = this.pos;
    this.pos++; // \
    if (this.atEnd()) throw this.invalid(start, '\\', 'a trailing backslash');
    const c = String.fromCodePoint(this.tokens[this.pos].cp);
    const predefined: Record<string, Range[]> = { d: DIGITS, w: WORD, s: SPACE };
    const lower = c.toLowerCase();
    if (lower in predefined && (c === lower || c === lower.toUpperCase())) {
      this.pos++;
      return c === lower ? predefined[lower] : complement(predefined[lower]);
    }
    return this.escapedCodePoint(start, true);
  }
}

/**
 * The source of a JavaScript (`u` flag) regex that matches exactly what the
 * Java regex matches. Throws {@link JavaRegexError} naming a construct that
 * cannot be matched exactly, or what makes it an invalid Java regex.
 */
export function javaRegexSource(source: string): string {
  return new Translator(source, tokenize(source)).translate();
}

/**
 * A RegExp that admits exactly the strings Java's
 * `Pattern.compile(source).matcher(s).matches()` admits (the whole string).
 * Throws {@link JavaRegexError} as {@link javaRegexSource}.
 */
export function javaFullMatchRegExp(source: string): RegExp {
  const translated = javaRegexSource(source);
  try {
    return new RegExp(`^(?:${translated})$`, 'u');
  } catch (err) {
    throw new JavaRegexError(source, 0, `cannot be translated to JavaScript: ${(err as Error).message}`);
  }
}
