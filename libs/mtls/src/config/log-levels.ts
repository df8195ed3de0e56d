import type { LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Nest log levels from a variable such as LOG_LEVEL (`log` by default: per-request
 * debug lines stay off unless asked for), or an Error naming the variable.
 */
export function logLevelsSetting(name: string, value: string | undefined): LogLevel[] {
  const level = (value?.trim() || 'log').toLowerCase() as LogLevel;
  const at = ORDER.indexOf(level);
  if (at < 0) throw new Error(`${name}: expected one of ${ORDER.join(', ')}, got "${value}"`);
  return ORDER.slice(0, at + 1);
}
