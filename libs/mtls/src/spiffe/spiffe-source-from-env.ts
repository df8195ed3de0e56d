import { readEnv, variableNames, type EnvSource } from '../config/env-source';
import { parseEnvValue } from '../config/env-value';
import { MTLS_SPIFFE_ENV, SPIFFE_ENDPOINT_SOCKET } from '../config/mtls-env';
import { refuseUnknownMtlsVariables } from '../config/unknown-mtls-variables';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { resolveSpiffeSourceOptions, type SpiffeWorkloadApiSourceOptions } from './spiffe-source-options';
import { WorkloadApiSource, type SpiffeWorkloadApiSource } from './spiffe-workload-api-source';

/**
 * The SPIFFE Workload API source the environment asks for, or undefined when
 * it asks for none: `MTLS_SPIFFE=true` turns it on, the socket is
 * `SPIFFE_ENDPOINT_SOCKET` (the standard variable), `MTLS_SPIFFE_ID`,
 * `MTLS_SPIFFE_STALE_AFTER_MS` and `MTLS_SPIFFE_STARTUP_TIMEOUT_MS` set its
 * options. One of those set without `MTLS_SPIFFE=true` is a configuration
 * error (it would be silently ignored); so is an unknown `MTLS_*` name.
 *
 *     const spiffe = spiffeWorkloadApiSourceFromEnv(config);
 *     return spiffe ? { ...mtlsOptionsFromEnv(config), source: spiffe } : mtlsOptionsFromEnv(config);
 */
export function spiffeWorkloadApiSourceFromEnv(env: EnvSource = process.env): SpiffeWorkloadApiSource | undefined {
  refuseUnknownMtlsVariables(variableNames(env));
  const switchValue = readEnv(env, MTLS_SPIFFE_ENV.enabled);
  const enabled = switchValue !== undefined && parseEnvValue(MTLS_SPIFFE_ENV.enabled, 'spiffe', 'boolean', switchValue) === true;
  const options: SpiffeWorkloadApiSourceOptions = {};
  const variables: Record<string, string> = {};
  const spiffeId = readEnv(env, MTLS_SPIFFE_ENV.spiffeId);
  if (spiffeId !== undefined) {
    options.spiffeId = spiffeId;
    variables.spiffeId = MTLS_SPIFFE_ENV.spiffeId;
  }
  for (const option of ['staleAfterMs', 'startupTimeoutMs'] as const) {
    const variable = MTLS_SPIFFE_ENV[option];
    const value = readEnv(env, variable);
    if (value === undefined) continue;
    options[option] = parseEnvValue(variable, option, 'int', value) as number;
    variables[option] = variable;
  }
  if (!enabled) {
    const stray = Object.values(variables)[0];
    if (stray) throw new MtlsConfigError(stray, `is set but ${MTLS_SPIFFE_ENV.enabled} is not true, so nothing reads it: set ${MTLS_SPIFFE_ENV.enabled}=true to take the material from the SPIFFE Workload API`);
    return undefined;
  }
  const socket = readEnv(env, SPIFFE_ENDPOINT_SOCKET);
  return new WorkloadApiSource(resolveSpiffeSourceOptions(options, { [SPIFFE_ENDPOINT_SOCKET]: socket }, variables));
}
