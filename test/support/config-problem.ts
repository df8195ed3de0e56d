import { MtlsConfigError } from 'nest-mtls';

/**
 * The MtlsConfigError `fn` throws; fails the test when it throws nothing or
 * something else, when its message spans lines, or when it contains one of
 * `secrets` (passwords a message must never repeat).
 */
export function configError(fn: () => unknown, secrets: readonly string[] = []): MtlsConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MtlsConfigError);
    const { message } = err as MtlsConfigError;
    expect(message).not.toMatch(/\n/);
    for (const secret of secrets) expect(message).not.toContain(secret);
    return err as MtlsConfigError;
  }
  throw new Error('expected an MtlsConfigError');
}

/** The message of the MtlsConfigError `fn` throws (see configError). */
export function configProblem(fn: () => unknown): string {
  return configError(fn).message;
}
