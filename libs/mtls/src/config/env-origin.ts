import { parseEnvValue } from './env-value';
import { MTLS_ENV } from './mtls-env';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { MtlsEnvOption, MtlsOptions } from './mtls-options.interface';

/**
 * Names the variable in an MtlsConfigError about an option whose value came
 * from the environment: `keyStorePassword: wrong password for /etc/mtls/server.p12`
 * becomes `MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for ...`.
 *
 * The option came from its variable when the value in use is the one the
 * variable holds in `env` (the real process environment by default, which is
 * also where ConfigModule puts the variables of `.env` files). No record
 * travels with the options, so spreading them (`{ ...mtlsOptionsFromEnv(), x }`)
 * or passing them through `forRoot` keeps this right, and a value set in code
 * over a variable is not blamed on the variable. Errors that name a variable
 * already, and anything that is not an MtlsConfigError, come back unchanged.
 * Apply it where options are turned into material (startup, reload).
 */
export function withEnvVariable(err: unknown, options: MtlsOptions, env: Record<string, string | undefined> = process.env): unknown {
  if (!(err instanceof MtlsConfigError) || err.variable !== undefined) return err;
  const entry = MTLS_ENV[err.setting as MtlsEnvOption];
  const value = options?.[err.setting as keyof MtlsOptions];
  if (!entry || value === undefined) return err;
  const [variable, kind] = entry;
  const raw = env[variable]?.trim();
  if (!raw) return err;
  let fromEnv: unknown;
  try {
    fromEnv = parseEnvValue(variable, err.setting, kind, raw);
  } catch {
    return err;
  }
  return sameValue(value, fromEnv) ? new MtlsConfigError(err.setting, err.problem, variable) : err;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}
