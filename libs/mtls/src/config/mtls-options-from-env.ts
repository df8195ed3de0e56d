import { readEnv, variableNames, type EnvSource } from './env-source';
import { parseEnvValue } from './env-value';
import { MTLS_ENV } from './mtls-env';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { MtlsEnvOption, MtlsOptions } from './mtls-options.interface';
import { refuseUnknownMtlsVariables } from './unknown-mtls-variables';
import { firstShapeProblem } from './validate-mtls-options';

// Kept importable from here, where they used to live.
export { readEnv, type EnvSource } from './env-source';
export { MTLS_ENV } from './mtls-env';

/**
 * Reads MtlsOptions from `MTLS_*` variables. Only variables that are set (and
 * not empty) become options, so the result can be spread over defaults.
 * An `MTLS_*` name nest-mtls does not know (a typo) is an MtlsConfigError,
 * and so is a value of the wrong kind or shape, naming the variable and the
 * option. With a ConfigService as the source, the names are checked in the
 * real process environment (ConfigService cannot list them).
 */
export function mtlsOptionsFromEnv(source: EnvSource = process.env): MtlsOptions {
  refuseUnknownMtlsVariables(variableNames(source));
  const options: Record<string, unknown> = {};
  for (const [option, [variable, kind]] of Object.entries(MTLS_ENV)) {
    const value = readEnv(source, variable);
    if (value !== undefined) options[option] = parseEnvValue(variable, option, kind, value);
  }
  // Shape problems (a number out of range, say) name the variable they came from, and the option.
  const problem = firstShapeProblem(options);
  if (problem) throw new MtlsConfigError(problem.option, problem.problem, MTLS_ENV[problem.option as MtlsEnvOption]?.[0]);
  return options;
}
