// docs/reference/cli.md: the `mtls` command line, from its own help: `mtls
// --help`, then `--help` of every command and command group it lists.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { GENERATED } = require('./markdown');

const BIN = join(__dirname, '..', '..', 'libs', 'mtls', 'bin', 'mtls.js');

function help(args) {
  return execFileSync(process.execPath, [BIN, ...args, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } }).trimEnd();
}

/**
 * The commands a help text lists under `Commands:`, in order (`pki init`, ...),
 * without `help`. Names are padded to one column, where the summaries start
 * (the longest name is followed by a single space).
 */
function commandsOf(text) {
  const lines = (text.split(/^Commands:\n/m)[1] ?? '').split('\n\n')[0].split('\n').filter((line) => line.startsWith('  ') && !line.startsWith('  help'));
  const columns = lines.map((line) => /^ {2}\S.*? {2,}(?=\S)/.exec(line)?.[0].length).filter((c) => c !== undefined);
  const column = Math.max(...columns);
  return lines.map((line) => line.slice(2, column).trim());
}

function cliPage() {
  const top = help([]);
  const commands = commandsOf(top);
  if (commands.length === 0) throw new Error('mtls --help lists no commands: has its format changed? update scripts/reference/cli-page.js');
  const groups = [...new Set(commands.filter((c) => c.includes(' ')).map((c) => c.split(' ')[0]))];
  const sections = [];
  for (const group of groups) sections.push([`## mtls ${group}`, '', '```text', help([group]), '```', ''].join('\n'));
  for (const command of commands) sections.push([`## mtls ${command}`, '', '```text', help(command.split(' ')), '```', ''].join('\n'));
  return [
    GENERATED,
    '',
    '# The mtls command line',
    '',
    'The `mtls` command ships with the package (`npx mtls`). Below is its own `--help`, command by command. Exit codes: 0 success, 1 the command failed (one line naming the file and the problem), 2 usage error.',
    '',
    ...commands.map((c) => `- [mtls ${c}](#mtls-${c.replace(/ /g, '-')})`),
    '',
    '## mtls',
    '',
    '```text',
    top,
    '```',
    '',
    ...sections,
  ].join('\n');
}

module.exports = { cliPage };
