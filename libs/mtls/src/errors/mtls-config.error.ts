import { MtlsError } from './mtls.error';

/**
 * A setting or file that stops the service before it listens (code
 * `ERR_MTLS_CONFIG`). The message is one line that names the setting (and the
 * file, when there is one) and what is wrong, e.g.
 * `keyStorePassword: wrong password for /etc/mtls/server.p12`; when the value
 * came from an environment variable, the variable first and the option in
 * parentheses: `MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for ...`.
 * It never contains key material or passwords.
 */
export class MtlsConfigError extends MtlsError {
  declare readonly code: 'ERR_MTLS_CONFIG';
  /** The option name (`keyStorePath`, `crlPath`, ...), or the variable or part the problem belongs to. */
  declare readonly setting: string;
  /** What is wrong, without the setting name. */
  declare readonly problem: string;
  /** The environment variable the option's value came from, when it did (`MTLS_KEY_STORE_PASSWORD`). */
  declare readonly variable: string | undefined;

  constructor(setting: string, problem: string, variable?: string) {
    super('ERR_MTLS_CONFIG', `${variable === undefined ? setting : `${variable} (${setting})`}: ${problem}`);
    // Not enumerable, so loggers that inspect the error print it on one line.
    Object.defineProperties(this, {
      code: { value: 'ERR_MTLS_CONFIG', enumerable: false },
      setting: { value: setting, enumerable: false },
      problem: { value: problem, enumerable: false },
      variable: { value: variable, enumerable: false },
    });
    // A configuration error is the user's, not the code's: the stack adds nothing.
    this.stack = `${this.name}: ${this.message}`;
  }
}
