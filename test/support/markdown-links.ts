// The links and headings of a Markdown file, as GitHub renders them: for the
// link checker (test/unit/doc-links.spec.ts). Code blocks and code spans are
// not Markdown, so links in them are not links.

/** One link of a file: its target as written and the line it is on. */
export interface MarkdownLink {
  target: string;
  line: number;
}

/** The lines of a file with fenced code blocks blanked (their line numbers kept). */
function withoutCodeBlocks(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      return '';
    }
    return line;
  });
}

/** A line without its code spans (`` `[not](a link)` ``). */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)[^`]*?\1/g, '');
}

/** Every link target: inline `[text](target "title")`, images, reference definitions, autolinks `<https://...>`, and HTML href/src. */
export function linksOf(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  withoutCodeBlocks(text).forEach((raw, index) => {
    const line = withoutCodeSpans(raw);
    const add = (target: string) => links.push({ target: target.replace(/^<(.*)>$/, '$1'), line: index + 1 });
    for (const m of line.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) add(m[1]);
    const definition = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(line);
    if (definition) add(definition[1]);
    for (const m of line.matchAll(/<((?:https?|mailto):[^>\s]*)>/gi)) add(m[1]);
    for (const m of line.matchAll(/<(?:a|img)\s[^>]*?\b(?:href|src)="([^"]*)"/gi)) add(m[1]);
  });
  return links;
}

/**
 * The anchor GitHub gives a heading: its text as rendered (no link syntax,
 * HTML tags or backslash escapes), lower case, anything but letters,
 * digits, marks, connector punctuation (`_`), spaces and hyphens dropped,
 * spaces as hyphens.
 */
export function githubSlug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\\(.)/g, '$1');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a file has: its headings' (duplicates numbered as GitHub does, `-1`, `-2`) and HTML `id`/`name` anchors. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocks(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*?\b(?:id|name)="([^"]+)"/gi)) anchors.add(m[1]);
  }
  return anchors;
}
