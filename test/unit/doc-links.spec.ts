import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { anchorsOf, githubSlug, linksOf } from '../support/markdown-links';

/**
 * The link checker of the documentation: every relative link and #anchor of
 * docs/**\/*.md, the READMEs and CONTRIBUTING.md leads to a file (and a
 * heading) that exists; external links are only checked to be URLs (no
 * internet here). The package's README ships in the tarball without the
 * repository around it: its relative links must lead into the tarball.
 */
const ROOT = join(__dirname, '..', '..');
const PACKAGE_README = 'libs/mtls/README.md';
/** The repository's web address (package.json `repository`): links into it are checked against this tree. */
const REPOSITORY = (JSON.parse(readFileSync(join(ROOT, 'libs', 'mtls', 'package.json'), 'utf8')) as { repository: { url: string } }).repository.url
  .replace(/^git\+/, '')
  .replace(/\.git$/, '');

function markdownUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return markdownUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const FILES = [...markdownUnder('docs'), 'README.md', PACKAGE_README, 'CONTRIBUTING.md'].filter((f) => existsSync(join(ROOT, f))).sort();

const anchors = new Map<string, Set<string>>();
function anchorsOfFile(path: string): Set<string> {
  if (!anchors.has(path)) anchors.set(path, anchorsOf(readFileSync(path, 'utf8')));
  return anchors.get(path)!;
}

/** What is wrong with one link of `file` (a repository path), or undefined. `within`: the files the link may lead to, when not the whole repository. */
function problemOf(file: string, target: string, within?: Set<string>): string | undefined {
  const intoRepository = repositoryPath(target);
  if (intoRepository !== undefined) {
    const problem = problemOf('README.md', intoRepository);
    return problem && `${target} (in this tree ${problem})`;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    if (/^mailto:[^@\s]+@[^@\s]+$/i.test(target)) return undefined;
    if (!/^https?:/i.test(target)) return `${target}: only http(s) and mailto links are expected`;
    try {
      const url = new URL(target);
      return url.hostname ? undefined : `${target}: no host name`;
    } catch {
      return `${target}: not a URL`;
    }
  }
  const [path, anchor] = target.split('#', 2);
  const from = join(ROOT, dirname(file));
  const absolute = path === '' ? join(ROOT, file) : path.startsWith('/') ? join(ROOT, decodeURI(path)) : resolve(from, decodeURI(path));
  const repoPath = relative(ROOT, absolute).split(sep).join('/');
  if (repoPath.startsWith('..')) return `${target}: leads out of the repository`;
  if (within && !within.has(repoPath) && ![...within].some((f) => f.startsWith(`${repoPath}/`))) return `${target}: ${repoPath} is not in the package tarball`;
  if (!existsSync(absolute)) return `${target}: ${repoPath} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(absolute).isDirectory() || !absolute.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return anchorsOfFile(absolute).has(decodeURIComponent(anchor)) ? undefined : `${target}: ${repoPath} has no heading #${anchor}`;
}

/**
 * A link to this repository's web pages (`REPOSITORY/blob/main/docs/x.md#y`,
 * `REPOSITORY#readme`) as a path from the repository root (`/docs/x.md#y`),
 * so the file and heading are checked here; undefined for any other link.
 */
function repositoryPath(target: string): string | undefined {
  if (target !== REPOSITORY && !target.startsWith(`${REPOSITORY}/`) && !target.startsWith(`${REPOSITORY}#`)) return undefined;
  const rest = target.slice(REPOSITORY.length);
  if (rest === '' || rest === '/' || rest.startsWith('#')) return `/README.md${rest.startsWith('#') && rest !== '#readme' ? rest : ''}`;
  const file = /^\/(?:blob|tree)\/[^/]+(\/[^#]*)?(#.*)?$/.exec(rest);
  return file ? `${file[1] ?? '/'}${file[2] ?? ''}` : undefined;
}

function brokenLinks(file: string, within?: Set<string>): string[] {
  return linksOf(readFileSync(join(ROOT, file), 'utf8')).flatMap(({ target, line }) => {
    const problem = problemOf(file, target, within);
    return problem ? [`${file}:${line}: ${problem}`] : [];
  });
}

/** The files `npm pack` puts in the package, as repository paths. */
function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--workspace', 'nest-mtls'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [{ files }] = JSON.parse(out) as [{ files: { path: string }[] }];
  return new Set(files.map((f) => `libs/mtls/${f.path}`));
}

describe('the links of the documentation', () => {
  it('finds the Markdown files it checks', () => {
    expect(FILES).toEqual(expect.arrayContaining(['README.md', PACKAGE_README, 'CONTRIBUTING.md', 'docs/architecture.md']));
  });

  it.each(FILES)('%s: every relative link and #anchor leads to a file and heading that exist, every external link is a URL', (file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  it(`${PACKAGE_README} links only to files the package tarball has (it ships without the repository)`, () => {
    const packed = packedFiles();
    expect(packed.has(PACKAGE_README)).toBe(true);
    expect(brokenLinks(PACKAGE_README, packed)).toEqual([]);
  });
});

describe('the link checker itself (controls)', () => {
  it('gives headings the anchors GitHub gives them', () => {
    expect(githubSlug('Behind a proxy (Envoy, nginx)')).toBe('behind-a-proxy-envoy-nginx');
    expect(githubSlug('`MTLS_*` variables')).toBe('mtls_-variables');
    expect(githubSlug('MtlsAdminModule (nest-mtls/admin)')).toBe('mtlsadminmodule-nest-mtlsadmin');
    expect([...anchorsOf('# Usage\n## Usage\n```\n# not a heading\n```\n<a id="here"></a>')]).toEqual(['usage', 'usage-1', 'here']);
  });

  it('finds links outside code and reports a dead file, a dead anchor and a bad URL', () => {
    const links = linksOf('[a](missing.md) `[b](code.md)`\n```\n[c](fence.md)\n```\n[d]: #nowhere\n<a href="https://">e</a> <https://example.org/x>');
    expect(links.map((l) => l.target)).toEqual(['missing.md', '#nowhere', 'https://example.org/x', 'https://']);
    expect(links.map((l) => problemOf('docs/architecture.md', l.target))).toEqual([
      'missing.md: docs/missing.md does not exist',
      expect.stringContaining('has no heading #nowhere'),
      undefined,
      'https://: not a URL',
    ]);
    expect(problemOf('CONTRIBUTING.md', 'docs/architecture.md', new Set(['libs/mtls/README.md']))).toContain('not in the package tarball');
  });

  it('checks links to this repository on the web against this tree', () => {
    expect(REPOSITORY).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/);
    expect(problemOf(PACKAGE_README, `${REPOSITORY}#readme`)).toBeUndefined();
    expect(problemOf(PACKAGE_README, `${REPOSITORY}/blob/main/docs/architecture.md`)).toBeUndefined();
    expect(problemOf(PACKAGE_README, `${REPOSITORY}/blob/main/docs/missing.md`)).toBe(`${REPOSITORY}/blob/main/docs/missing.md (in this tree /docs/missing.md: docs/missing.md does not exist)`);
    expect(problemOf(PACKAGE_README, `${REPOSITORY}/tree/main/docs#nowhere`)).toContain('not Markdown');
    expect(problemOf(PACKAGE_README, `${REPOSITORY}/blob/main/README.md#no-such-heading`)).toContain('has no heading #no-such-heading');
  });
});
