/**
 * Why a RegExp can match text longer than what it names, or undefined when
 * it matches whole strings only: every top-level alternative starts with `^`
 * and ends with an unescaped `$`, and there is no `m` flag (with it `^` and
 * `$` match at line breaks too). `/CN=envoy/` matches `CN=envoy-canary`;
 * `/^CN=envoy$|CN=mesh/` matches anything ending in `CN=mesh`.
 */
export function unanchoredProblem(re: RegExp): string | undefined {
  if (re.multiline) return 'it has the m flag, so ^ and $ match at line breaks too';
  for (const alternative of topLevelAlternatives(re.source)) {
    if (!alternative.startsWith('^')) return `${alternatives(re)} does not start with ^`;
    if (!endsWithAnchor(alternative)) return `${alternatives(re)} does not end with $`;
  }
  return undefined;
}

function alternatives(re: RegExp): string {
  return topLevelAlternatives(re.source).length > 1 ? 'an alternative (|) of it' : 'it';
}

/** The source split at `|` outside groups, character classes and escapes. */
function topLevelAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/** True when `text` ends with a `$` that is not escaped (an even number of backslashes before it). */
function endsWithAnchor(text: string): boolean {
  if (!text.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = text.length - 2; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}
