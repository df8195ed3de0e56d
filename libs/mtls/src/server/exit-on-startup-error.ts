import { MtlsConfigError } from '../config/mtls-config.error';

/**
 * For `bootstrap().catch(exitOnStartupError('user-service'))`: prints one line
 * naming what is wrong and exits non-zero, instead of a stack trace. With
 * `{ json: true }` (a service that logs JSON) the line is one JSON object
 * (`level` `fatal`, `message`, `context`, and `setting`/`variable` for a
 * configuration error) on stderr.
 */
export function exitOnStartupError(service: string, { json = false }: { json?: boolean } = {}): (err: unknown) => never {
  return (err: unknown) => {
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
