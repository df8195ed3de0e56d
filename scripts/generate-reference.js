#!/usr/bin/env node
/*
 * Generates docs/reference/ from the code (`npm run docs:reference`): options.md
 * (option tables and doc comments), errors.md (error and refusal code tables),
 * cli.md (`mtls --help` of every command), api/ (TypeDoc of the package's entry
 * points) and the README.md index. Needs the built library (`npm run build`).
 * Deterministic: no dates, no absolute paths, a fixed order, so
 * test/e2e/reference-docs.e2e.spec.ts can regenerate into a temporary folder
 * and compare with what is committed.
 *
 *     node scripts/generate-reference.js [OUT_DIR]   (default docs/reference)
 */
const { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const { optionsPage } = require('./reference/options-page');
const { errorsPage } = require('./reference/errors-page');
const { cliPage } = require('./reference/cli-page');
const { GENERATED } = require('./reference/markdown');

const root = join(__dirname, '..');

function indexPage() {
  return [
    GENERATED,
    '',
    '# Reference',
    '',
    'Generated from the code by `npm run docs:reference`; a test fails when a page here differs from what the code generates.',
    '',
    '- [Options and variables](options.md): every option of MtlsModule and its `MTLS_*` variable, type, default and accepted values; the admin, SPIFFE, development PKI, graceful shutdown, TCP and HTTP/2 options.',
    '- [Errors and refusal codes](errors.md): every `ERR_MTLS_*` error code, handshake refusal reason and stage, guard refusal reason and policy rule code.',
    '- [The mtls command line](cli.md): `mtls --help` of every command.',
    '- [API](api/README.md): every public entry point of the package (TypeDoc).',
    '',
  ].join('\n');
}

/** Every generated file, as a map of path (relative to the reference folder) to content. */
async function referenceFiles() {
  if (!existsSync(join(root, 'libs', 'mtls', 'dist', 'index.js'))) throw new Error('the library is not built: run npm run build first');
  const files = new Map([
    ['README.md', indexPage()],
    ['options.md', optionsPage()],
    ['errors.md', errorsPage()],
    ['cli.md', cliPage()],
  ]);
  const { apiPages } = await import(pathToFileURL(join(__dirname, 'reference', 'api-pages.mjs')).href);
  for (const [file, text] of await apiPages()) files.set(`api/${file}`, text);
  for (const [file, text] of files) files.set(file, `${text.trimEnd()}\n`);
  return files;
}

async function main() {
  const out = resolve(process.argv[2] ?? join(root, 'docs', 'reference'));
  const files = await referenceFiles();
  // api/ holds only what was generated now: a page of a removed entry point goes.
  rmSync(join(out, 'api'), { recursive: true, force: true });
  mkdirSync(join(out, 'api'), { recursive: true });
  for (const [file, text] of files) writeFileSync(join(out, file), text);
  const stray = readdirSync(out).filter((f) => f !== 'api' && !files.has(f));
  if (stray.length > 0) process.stderr.write(`docs:reference: not generated, left as is: ${stray.join(', ')}\n`);
  process.stdout.write(`docs:reference: wrote ${files.size} files to ${out === join(root, 'docs', 'reference') ? 'docs/reference' : out}\n`);
}

main().catch((err) => {
  process.stderr.write(`docs:reference: ${err.message}\n`);
  process.exitCode = 1;
});
