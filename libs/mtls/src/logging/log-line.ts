import type { Logger, LoggerService } from '@nestjs/common';
import type { LogFields } from './repeat-summarizer';

export type { LogFields } from './repeat-summarizer';

/**
 * Writes `line` at `level`, with `fields` (undefined values dropped) as Nest's
 * structured parameters when there are any: a JSON logger (`MtlsConsoleLogger`
 * with `json: true`, or Nest's `ConsoleLogger` with `json` and
 * `flattenParams`) puts them in the record, and the line stays the message.
 * The fields hold codes, addresses and subjects (passed through `logSafe`
 * by the caller), never key material, passwords or policies.
 */
export function logLine(logger: Logger | LoggerService, level: 'log' | 'warn' | 'error' | 'debug', line: string, fields?: LogFields): void {
  const defined = fields ? Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) : {};
  const write = logger[level]?.bind(logger) as ((message: unknown, ...params: unknown[]) => void) | undefined;
  if (!write) return;
  if (Object.keys(defined).length === 0) write(line);
  else write(line, defined);
}
