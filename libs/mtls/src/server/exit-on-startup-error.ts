import { MtlsConfigError } from '../errors/mtls-config.error';
import { takeStartupError } from '../logging/startup-error-handoff';

/**
 * For `bootstrap().catch(exitOnStartupError('user-service'))`: prints one line
 * naming what is wrong and exits non-zero, instead of a stack trace. With
 * `{ json: true }` (a service that logs JSON) the line is one JSON object
 * (`level` `fatal`, `message`, `context`, and `setting`/`variable` for a
 * configuration error) on stderr. With MtlsConsoleLogger as the application's
 * logger this is the only report of the error (Nest's ExceptionHandler line
 * is left out).
 */
export function exitOnStartupError(service: string, { json = false }: { json?: boolean } = {}): (err: unknown) => never {
  return (err: unknown) => {
    takeStartupError(err); // MtlsConsoleLogger leaves out Nest's own report of it: said once
    const message = err instanceof Error ? err.message : String(err);
    const kind = err instanceof MtlsConfigError ? 'configuration error' : 'cannot start';
    const line = `${service}: ${kind}: ${message.split('\n')[0]}`;
    if (json) {
      const config = err instanceof MtlsConfigError ? { setting: err.setting, variable: err.variable } : {};
      process.stderr.write(`${JSON.stringify({ level: 'fatal', pid: process.pid, timestamp: Date.now(), message: line, context: service, event: 'startup_failed', ...config })}\n`);
    } else {
      process.stderr.write(`${line}\n`);
    }
    process.exit(1);
  };
}
