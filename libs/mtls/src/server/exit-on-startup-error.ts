import { MtlsConfigError } from '../config/mtls-config.error';

/**
 * For `bootstrap().catch(exitOnStartupError('user-service'))`: prints one line
 * naming what is wrong and exits non-zero, instead of a stack trace.
 */
export function exitOnStartupError(service: string): (err: unknown) => never {
  return (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const kind = err instanceof MtlsConfigError ? 'configuration error' : 'cannot start';
    process.stderr.write(`${service}: ${kind}: ${message.split('\n')[0]}\n`);
    process.exit(1);
  };
}
