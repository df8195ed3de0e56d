import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * A code block of the docs marked as runnable: an HTML comment on the line
 * before its fence, `<!-- runnable: KIND [ARG] -->`. The kinds:
 *
 * - `app NAME`: TypeScript files of one app (each block's first line names
 *   its file, `// src/app.module.ts`); every `src/main*.ts` is started.
 * - `session SERVICE [VAR=value ...]`: a console session (`$ command`, then
 *   its output) against SERVICE started with those variables (`none`: no service).
 * - `log SERVICE [VAR=value ...]`: lines that service (the same variables) logs
 *   after the page's sessions before it.
 * - `file`: a file the page's sessions use (its first line names it, `# config.yml`).
 * - `kubernetes`: Kubernetes manifests (cert-manager's among them) to validate.
 * - `jest NAME`: the files of a Jest suite (the page's Jest config), run with `npx jest`.
 * - `nginx`, `nginx-service-env`: the nginx recipe and the service's variables behind it.
 * - `demo-output`: what `npm run demo` prints.
 * - `prometheus-rules`: a Prometheus rules file.
 */
export interface MarkedBlock {
  /** The Markdown file, relative to the repository root. */
  page: string;
  /** 1-based line of the fence. */
  line: number;
  kind: string;
  arg?: string;
  /** The `VAR=value` settings after the argument. */
  env: Record<string, string>;
  lang: string;
  code: string;
  /** The file the block is, when its first line is a comment naming one. */
  file?: string;
}

/** The Markdown files whose marked blocks are run: the root README and every page under docs/. */
export function documentationPages(): string[] {
  const pages = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(path);
    }
  };
  walk('docs');
  return pages.sort();
}

/** Every marked block of the documentation pages, in page order. */
export function markedBlocks(pages = documentationPages()): MarkedBlock[] {
  const blocks: MarkedBlock[] = [];
  for (const page of pages) {
    const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const mark = /^<!-- runnable: ([\w-]+)(?: ([\w.-]+))?((?: [A-Z][A-Z0-9_]*=[^\s=]*)*) -->$/.exec(lines[i]);
      if (!mark) continue;
      const fence = /^```(\w*)$/.exec(lines[i + 1] ?? '');
      if (!fence) throw new Error(`${page}:${i + 1}: a runnable mark not followed by a code fence`);
      const end = lines.findIndex((l, j) => j > i + 1 && l.startsWith('```'));
      if (end < 0) throw new Error(`${page}:${i + 2}: an unclosed code block`);
      const body = lines.slice(i + 2, end);
      const file = /^(?:\/\/|#) ((?:[\w.-]+\/)*[\w.-]+\.\w+)$/.exec(body[0] ?? '')?.[1];
      const env = Object.fromEntries(mark[3].trim().split(' ').filter(Boolean).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
      blocks.push({ page: relative(ROOT, join(ROOT, page)), line: i + 2, kind: mark[1], ...(mark[2] ? { arg: mark[2] } : {}), env, lang: fence[1], code: `${body.join('\n')}\n`, ...(file ? { file } : {}) });
      i = end;
    }
  }
  return blocks;
}

/** One command of a console session and the output the docs show for it. */
export interface SessionStep {
  command: string;
  expected: string[];
}

/** The steps of a console block: `$ ` lines (with `\` continuations) and the lines after each. */
export function sessionSteps(code: string): SessionStep[] {
  const steps: SessionStep[] = [];
  const lines = code.replace(/\n$/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('$ ')) {
      let command = line.slice(2);
      while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1).trimEnd()} ${lines[++i].trim()}`;
      steps.push({ command, expected: [] });
    } else if (steps.length === 0) {
      throw new Error(`a session block that does not start with "$ ": ${line}`);
    } else {
      steps[steps.length - 1].expected.push(line);
    }
  }
  return steps;
}

/** The `NAME=value` lines of a shell block (single-quoted values unquoted; comments left out). */
export function shellVariables(code: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of code.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(?:'([^']*)'|(\S*))\s*(?:#.*)?$/.exec(line.trim());
    if (m) vars[m[1]] = m[2] ?? m[3];
  }
  return vars;
}
