#!/usr/bin/env node
import { type CliCommand, type CliIo, UsageError } from './commands/command';
import { explainCommand } from './commands/explain.command';
import { inspectCommand } from './commands/inspect.command';
import { migrateDropwizardCommand } from './commands/migrate-dropwizard.command';
import { pkiInitCommand } from './commands/pki-init.command';
import { pkiCrlCommand } from './commands/pki-crl.command';
import { pkiIssueCommand } from './commands/pki-issue.command';
import { pkiRevokeCommand } from './commands/pki-revoke.command';
import { packageVersion } from './package-version';

const COMMANDS: CliCommand[] = [pkiInitCommand, pkiIssueCommand, pkiRevokeCommand, pkiCrlCommand, inspectCommand, explainCommand, migrateDropwizardCommand];

/** Command groups (`pki`): the first word of several commands. */
const GROUPS: Record<string, string> = {
  pki: 'A development PKI: CAs, service certificates, revocation and CRLs',
  migrate: 'Carry a configuration of another framework over to nest-mtls',
};

/** Commands and their summaries, one a line, the summaries in one column. */
function commandList(commands: CliCommand[]): string {
  const width = Math.max(11, ...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`).join('\n');
}

const HELP = `Usage: mtls COMMAND [options]

Tools for mutual TLS with nest-mtls.

Commands:
${commandList(COMMANDS)}
  help [COMMAND]  this help, or a command's

Options:
  -h, --help      this help
  -v, --version   the version of nest-mtls

Run 'mtls COMMAND --help' for a command's options.
`;

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `Usage: mtls ${group} COMMAND [options]`,
    '',
    `${GROUPS[group]}.`,
    '',
    'Commands:',
    commandList(members),
    '',
    `Run 'mtls ${group} COMMAND --help' for a command's options.`,
    '',
  ].join('\n');
}

const isHelp = (word: string | undefined) => word === '--help' || word === '-h';

/**
 * Runs the `mtls` command line. Returns the exit code: 0 success, 1 the
 * command failed (one line naming the file and the problem), 2 usage error
 * (one line and a hint to --help). Never prints a stack trace.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  if (argv.length === 0) {
    io.stderr.write(HELP);
    return 2;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    io.stdout.write(`nest-mtls ${packageVersion()}\n`);
    return 0;
  }
  const asksHelp = argv[0] === 'help';
  const words = asksHelp ? argv.slice(1) : argv;
  const command = findCommand(words);
  const group = words[0] !== undefined && words[0] in GROUPS ? words[0] : undefined;

  if (asksHelp || isHelp(words[0]) || (group && !command && isHelp(words[1]))) {
    if (asksHelp && words.length > 0 && !command && !group) return usage(io, `unknown command "${words.join(' ')}"`, 'mtls --help');
    io.stdout.write(command && asksHelp ? command.help : group && !command ? groupHelp(group) : HELP);
    return 0;
  }
  if (!command) {
    if (group) {
      const known = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => `'${c.name}'`).join(' or ');
      const what = words[1] === undefined ? `missing ${group} command` : `unknown ${group} command "${words[1]}"`;
      return usage(io, `${what} (try ${known})`, `mtls ${group} --help`);
    }
    return usage(io, `unknown command "${words[0]}"`, 'mtls --help');
  }
  try {
    return await command.run(words.slice(command.name.split(' ').length), io);
  } catch (err) {
    const message = oneLine(err);
    if (err instanceof UsageError) return usage(io, message, `mtls ${command.name} --help`, command.name);
    io.stderr.write(`mtls ${command.name}: ${message}\n`);
    return 1;
  }
}

function usage(io: CliIo, message: string, helpCommand: string, commandName?: string): number {
  io.stderr.write(`mtls${commandName ? ` ${commandName}` : ''}: ${message}. Run '${helpCommand}' for usage.\n`);
  return 2;
}

function findCommand(words: string[]): CliCommand | undefined {
  return COMMANDS.find((c) => c.name.split(' ').every((p, i) => words[i] === p));
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].trim() || 'failed';
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`mtls: ${oneLine(err)}\n`);
      process.exitCode = 1;
    },
  );
}
