import type { LoggerService } from '@nestjs/common';
import { escapeLogText } from './log-safe';

type Level = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const LEVELS: readonly Level[] = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'];

/**
 * `logger`, with every message that is a string escaped as `logSafe` escapes
 * (control, line-breaking and bidi characters; nothing cut) before it is
 * written: for a Nest component of ours (a transport) whose own lines may
 * carry peer text, so that those lines cannot forge or reorder others
 * whatever logger the application uses. Other arguments (context, stack,
 * fields) pass unchanged.
 */
export function logSafeLogger(logger: LoggerService): LoggerService {
  const safe: Partial<Record<Level, (message: unknown, ...rest: unknown[]) => void>> = {};
  for (const level of LEVELS) {
    const write = logger[level]?.bind(logger) as ((message: unknown, ...rest: unknown[]) => void) | undefined;
    if (write) safe[level] = (message: unknown, ...rest: unknown[]) => write(typeof message === 'string' ? escapeLogText(message) : message, ...rest);
  }
  return safe as LoggerService;
}
