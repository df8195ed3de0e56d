import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DnFormat } from '../../config/mtls-options.interface';

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

/**
 * `util.parseArgs`, strict, with its errors as one-line UsageErrors. A
 * negative number after a string option is taken as its value (`--days -5`),
 * so that the option's own check can say what is wrong with it.
 */
export function parseCommandArgs(args: string[], options: Options): ParsedArgs {
  const joined = joinNegativeValues(args, options);
  try {
    return parseArgs({ args: joined, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message;
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]}: a value that starts with "-" must be written ${ambiguous[1]}=VALUE`);
    // Node's messages go on about positionals after '--': keep the first sentence.
    throw new UsageError((message.split(/\.\s+(?=[A-Z])/)[0] ?? '').replace(/\.$/, ''));
  }
}

function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** A string option's value (the last one when given twice); undefined when absent. */
export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** `--dn-format rfc4514|jdk` (MtlsModule's `dnFormat`), default `rfc4514`; anything else is a usage error. */
export function dnFormatOption(values: ParsedArgs['values']): DnFormat {
  const value = stringOption(values, 'dn-format') ?? 'rfc4514';
  if (value !== 'rfc4514' && value !== 'jdk') throw new UsageError(`--dn-format must be rfc4514 or jdk, got "${value}"`);
  return value;
}

/** A repeatable string option's values, in order. */
export function listOption(values: ParsedArgs['values'], name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** A whole decimal number within [min, max]; anything else (`-5`, `abc`, `1.5`, `0x10`) is a usage error naming the option. */
export function wholeNumberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** Two options that say the same thing in different ways: giving both is a usage error. */
export function exclusive(values: ParsedArgs['values'], a: string, b: string, why: string): void {
  if (values[a] !== undefined && values[b] !== undefined) throw new UsageError(`--${a} and --${b} exclude each other: ${why}`);
}

/** Runs a library check of an argument (a name, a DN); its error becomes a usage error. */
export function asUsage(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
