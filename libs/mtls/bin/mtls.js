#!/usr/bin/env node
// Launcher of the `mtls` command-line tool (source in src/cli/, built into dist/cli/).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('mtls: not built yet; run `npm run build` first\n');
  process.exit(1);
}
const { main } = require(entry);
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`mtls: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
