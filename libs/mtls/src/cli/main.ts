#!/usr/bin/env node
import { type CliCommand, type CliIo, UsageError } from './commands/command';
import { inspectCommand } from './commands/inspect.command';
import { pkiInitCommand } from './commands/pki-init.command';
import { pkiIssueCommand } from './commands/pki-issue.command';

const COMMANDS: CliCommand[] = [pkiInitCommand, pkiIssueCommand, inspectCommand];

const HELP = `Usage: mtls COMMAND [options]

Tools for mutual TLS with nest-mtls.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(11)} ${c.summary}`).join('\n')}
  help [COMMAND]  this help, or a command's

Run 'mtls COMMAND --help' for a command's options.
`;

/**
 * Runs the `mtls` command line. Returns the exit code: 0 success, 1 the
 * command failed (one line naming the file and the problem), 2 usage error
 * (one line and a hint to --help). Never prints a stack trace.
 */
export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const words = argv[0] === 'help' ? argv.slice(1) : argv;
  const command = findCommand(words);

  if (argv[0] === 'help' || argv.length === 0 || (!command && (argv[0] === '--help' || argv[0] === '-h'))) {
    const wanted = argv[0] === 'help' && command ? command.help : HELP;
    (argv.length === 0 ? io.stderr : io.stdout).write(wanted);
    return argv.length === 0 ? 2 : 0;
  }
  if (!command) {
    const prefix = argv[0] === 'pki' ? `unknown pki command "${argv[1] ?? ''}" (try 'pki init' or 'pki issue')` : `unknown command "${argv[0]}"`;
    io.stderr.write(`mtls: ${prefix}. Run 'mtls --help' for usage.\n`);
    return 2;
  }
  try {
    return await command.run(argv.slice(command.name.split(' ').length), io);
  } catch (err) {
    const message = oneLine(err);
    if (err instanceof UsageError) {
      io.stderr.write(`mtls ${command.name}: ${message}. Run 'mtls ${command.name} --help' for usage.\n`);
      return 2;
    }
    io.stderr.write(`mtls ${command.name}: ${message}\n`);
    return 1;
  }
}

function findCommand(words: string[]): CliCommand | undefined {
  return COMMANDS.find((c) => {
    const parts = c.name.split(' ');
    return parts.every((p, i) => words[i] === p);
  });
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
