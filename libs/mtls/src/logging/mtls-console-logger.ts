import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';
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
    return super.formatMessage(logLevel, message, pidMessage, formattedLogLevel, contextMessage, timestampDiff, undefined);
  }
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
