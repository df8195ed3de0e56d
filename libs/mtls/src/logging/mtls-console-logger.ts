import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';
import { inspect } from 'node:util';
import { escapeLogText } from './log-safe';
import { holdStartupError } from './startup-error-handoff';

/**
 * Nest's `ConsoleLogger` for a service that uses nest-mtls, in either of its
 * two formats:
 *
 * - text (the default): one human-readable line per entry, exactly as
 *   before; the structured fields nest-mtls attaches to its lines (refusal
 *   `reason`, `peer`, `subject`, `route`, ...) are left out of the text,
 *   where they would repeat the line;
 * - `json: true`: one JSON object per line (Nest's own JSON mode, no
 *   colours), with those fields at the top level of the object next to
 *   `level`, `pid`, `timestamp`, `message` and `context` (Nest's fields win
 *   on a name clash).
 *
 *     const logger = new MtlsConsoleLogger({ json: logFormatSetting('LOG_FORMAT', process.env.LOG_FORMAT) === 'json', logLevels });
 *     const app = await NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger });
 *
 * An error that stops the application while Nest creates it is said once:
 * Nest's ExceptionHandler line is left out when the bootstrap's catch
 * (`exitOnStartupError`) prints it as its one line, and printed otherwise.
 *
 * nest-mtls never puts key material, passwords or policies in a line or a
 * field, and passes peer-supplied text (subjects, URLs) through `logSafe`.
 * Every other message goes through the same escaping here, whoever wrote
 * it (Nest's transports, adapters, the application): in text, one record is
 * one physical line (control, line-breaking and bidi characters escaped as
 * `\n`, `\x1b`, `\u202e`; an object on one line), and a stack trace follows
 * its record as indented lines whose header is escaped, so nothing a peer
 * sends can start a line of its own; in JSON, the message and context are
 * escaped the same way and the rest of the line has those characters as JSON
 * escapes. nest-mtls' own lines are already escaped and come out unchanged.
 */
export class MtlsConsoleLogger extends ConsoleLogger {
  constructor(options: ConsoleLoggerOptions = {}) {
    super(options.json ? { flattenParams: true, ...options } : options);
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    if (message instanceof Error && optionalParams[optionalParams.length - 1] === 'ExceptionHandler' && this.isLevelEnabled('error')) {
      // Nest reports an error thrown while it creates the application; the bootstrap may report it too.
      holdStartupError(message, () => super.error(message, ...optionalParams));
      return;
    }
    super.error(message, ...optionalParams);
  }

  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
  ): string {
    const resolved = this.resolveMessage(message);
    if (!(resolved instanceof Error)) return super.formatMessage(logLevel, resolved, pidMessage, formattedLogLevel, contextMessage, timestampDiff, undefined);
    // An error: its name and message on the record's line, its frames after it.
    const { header, frames } = splitStack(resolved);
    const record = super.formatMessage(logLevel, header, pidMessage, formattedLogLevel, contextMessage, timestampDiff, undefined);
    return frames ? `${record.replace(/\n$/, '')}${frames}\n` : record;
  }

  /** A message as one line: strings and objects escaped (an object printed on one line). */
  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    const resolved = this.resolveMessage(message);
    if (typeof resolved === 'string') return this.colorize(escapeLogText(resolved), logLevel);
    const oneLine = super.stringifyMessage(resolved, logLevel).replace(/\n\s*/g, ' ');
    // util.inspect escapes control characters inside strings itself; what is left raw is its colouring.
    return escapeLogText(oneLine, this.options.colors === true);
  }

  protected override formatContext(context: string): string {
    return super.formatContext(context ? escapeLogText(context) : context);
  }

  /** A stack trace (text format): its header escaped on one line, its frames indented below. */
  protected override printStackTrace(stack: string): void {
    if (!stack || this.options.json) return;
    const { header, frames } = splitStack(stack);
    const text = `${header}${frames}`;
    if (this.options.forceConsole) console.error(text);
    else process.stderr.write(`${text}\n`);
  }

  protected override getJsonLogObject(message: unknown, options: Parameters<ConsoleLogger['getJsonLogObject']>[1]): ReturnType<ConsoleLogger['getJsonLogObject']> {
    const record = super.getJsonLogObject(typeof message === 'string' ? escapeLogText(message) : message, options);
    if (typeof record.context === 'string') record.context = escapeLogText(record.context);
    return record;
  }

  /** JSON escapes (`\u2028`, `\u202e`, ...) for what JSON.stringify leaves raw but a log viewer would break or reorder a line at. */
  protected override stringifyJsonLogObject(logObject: Record<string, unknown>): string {
    return super.stringifyJsonLogObject(logObject).replace(JSON_RAW_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
}

/** What JSON.stringify writes raw among the characters logSafe escapes: DEL, C1 controls, line separators, bidi marks, the BOM. */
const JSON_RAW_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * A stack (of an Error, or as a string) split for text logs: the header (the
 * error's name and message, which may hold peer text) escaped into one line,
 * and the frames (and anything after the header) as lines indented by four
 * spaces, each escaped, each starting with `\n`.
 */
function splitStack(error: Error | string): { header: string; frames: string } {
  let header: string;
  let rest: string;
  if (typeof error === 'string') {
    const at = error.search(/\n[ \t]+at /);
    header = at < 0 ? error : error.slice(0, at);
    rest = at < 0 ? '' : error.slice(at);
  } else {
    const stack = typeof error.stack === 'string' ? error.stack : '';
    const head = `${error.name}: ${error.message}`;
    if (stack.startsWith(head)) {
      header = head;
      rest = stack.slice(head.length);
    } else {
      const at = stack.search(/\n[ \t]+at /);
      header = at < 0 ? stack || inspect(error) : stack.slice(0, at);
      rest = at < 0 ? '' : stack.slice(at);
    }
  }
  const frames = rest
    .split(/\r?\n/)
    .filter((line) => line.trim().length > 0)
    .map((line) => `\n    ${escapeLogText(line.trimStart())}`)
    .join('');
  return { header: escapeLogText(header), frames };
}

/** The log formats a service can be asked for. */
export type LogFormat = 'text' | 'json';

/**
 * The log format from a variable such as LOG_FORMAT: `text` (the default,
 * human-readable) or `json` (one JSON object per line); anything else is an
 * Error naming the variable.
 */
export function logFormatSetting(name: string, value: string | undefined): LogFormat {
  const format = (value?.trim() || 'text').toLowerCase();
  if (format !== 'text' && format !== 'json') throw new Error(`${name}: expected text or json, got "${value}"`);
  return format;
}
