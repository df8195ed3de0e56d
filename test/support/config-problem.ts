import { MtlsConfigError } from 'nest-mtls';

/** The message of the MtlsConfigError `fn` throws; fails the test when it throws nothing, or something else. */
export function configProblem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MtlsConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a MtlsConfigError');
}
