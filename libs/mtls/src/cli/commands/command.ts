import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes: stdout for results, stderr for errors. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** One `mtls` sub-command. */
export interface CliCommand {
  /** The words that select it, e.g. `pki init`. */
  name: string;
  /** One line for `mtls --help`. */
  summary: string;
  /** Full help text of `mtls NAME --help`. */
  help: string;
  /** Runs with the arguments after the command words; returns the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Wrong arguments: exit code 2, one line, and a hint to --help. */
export class UsageError extends Error {}

/** The command could not do its job (missing file, bad certificate, ...): exit code 1, one line. */
export class CommandError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** What a command's arguments parse into: option values by name, and the positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** `util.parseArgs`, strict, with its errors as one-line UsageErrors. */
export function parseCommandArgs(args: string[], options: Options): ParsedArgs {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages go on about positionals after '--': keep the first sentence.
    throw new UsageError(((err as Error).message.split(/\. (?=[A-Z])/)[0] ?? '').replace(/\.$/, ''));
  }
}
