import { readFileSync } from 'node:fs';

/** A fenced code block of a Markdown file. */
export interface ReadmeBlock {
  /** The fence's language (`ts`, `js`, `sh`, ...). */
  lang: string;
  /** The block's text, with a final newline. */
  code: string;
  /** The file it is, when its first line is a comment naming one (`// src/app.module.ts`). */
  file?: string;
}

/**
 * The fenced code blocks under `heading` (a whole heading line, e.g.
 * `## Testing`) of a Markdown file, in order, up to the next heading of any
 * level. Throws when the heading is missing, so a renamed section fails the
 * tests that run it.
 */
export function readmeBlocks(markdownPath: string, heading: string): ReadmeBlock[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${markdownPath} has no heading "${heading}"`);
  const blocks: ReadmeBlock[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of lines.slice(start + 1)) {
    if (open) {
      if (line.startsWith('```')) {
        const code = `${open.lines.join('\n')}\n`;
        const file = /^(?:\/\/|#) ((?:[\w.-]+\/)*[\w.-]+\.\w+)$/.exec(open.lines[0] ?? '')?.[1];
        blocks.push({ lang: open.lang, code, ...(file ? { file } : {}) });
        open = undefined;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    if (/^#+ /.test(line)) break;
    const fence = /^```(\w*)$/.exec(line);
    if (fence) open = { lang: fence[1], lines: [] };
  }
  return blocks;
}

/** The commands of the `sh` blocks, one per line (blank lines and comment lines left out). */
export function shellCommands(blocks: ReadmeBlock[]): string[] {
  return blocks
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.code.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * A block's code for a Fastify app, as its comments say: a line ending in
 * `// Fastify: import ...;` becomes that import; a line ending in
 * `// Fastify: new X(...)` gets that instead of its `new ...(...)`.
 * Throws when a block that mentions an Express adapter has no such comment.
 */
export function forFastify(code: string): string {
  const out = code.split('\n').map((line) => {
    const m = /^(.*?)\s*\/\/ Fastify: (.+)$/.exec(line);
    if (!m) return line;
    const [, statement, instead] = m;
    if (instead.startsWith('import ')) return `${/^\s*/.exec(statement)![0]}${instead}`;
    const replaced = statement.replace(/new \w+\([^()]*\)/, instead);
    if (replaced === statement) throw new Error(`"// Fastify: ${instead}" on a line without an expression to replace: ${line}`);
    return replaced;
  });
  const text = out.join('\n');
  if (/MtlsExpressAdapter|ExpressAdapter|platform-express/.test(text)) throw new Error(`an Express part is left for Fastify:\n${text}`);
  return text;
}
