import { MtlsConfigError } from './mtls-config.error';
import type { MtlsOptions } from './mtls-options.interface';
import { firstShapeProblem } from './validate-mtls-options';

/** Where values come from: `process.env`, a plain record, or @nestjs/config's ConfigService. */
export type EnvSource = Record<string, string | undefined> | { get(name: string): unknown };

type Kind = 'string' | 'boolean' | 'list' | 'int';

/** Environment variable of each option. Demo services and deployments rely on these exact names. */
export const MTLS_ENV: Readonly<Record<keyof MtlsOptions, [string, Kind]>> = {
  keyStorePath: ['MTLS_KEY_STORE_PATH', 'string'],
  keyStorePassword: ['MTLS_KEY_STORE_PASSWORD', 'string'],
  keyStoreType: ['MTLS_KEY_STORE_TYPE', 'string'],
  certAlias: ['MTLS_CERT_ALIAS', 'string'],
  certPath: ['MTLS_CERT_PATH', 'string'],
  keyPath: ['MTLS_KEY_PATH', 'string'],
  keyPassphrase: ['MTLS_KEY_PASSPHRASE', 'string'],
  trustStorePath: ['MTLS_TRUST_STORE_PATH', 'string'],
  trustStorePassword: ['MTLS_TRUST_STORE_PASSWORD', 'string'],
  trustStoreType: ['MTLS_TRUST_STORE_TYPE', 'string'],
  crlPath: ['MTLS_CRL_PATH', 'string'],
  needClientAuth: ['MTLS_NEED_CLIENT_AUTH', 'boolean'],
  validatePeers: ['MTLS_VALIDATE_PEERS', 'boolean'],
  validateCerts: ['MTLS_VALIDATE_CERTS', 'boolean'],
  supportedProtocols: ['MTLS_SUPPORTED_PROTOCOLS', 'list'],
  supportedCipherSuites: ['MTLS_SUPPORTED_CIPHER_SUITES', 'list'],
  allowRenegotiation: ['MTLS_ALLOW_RENEGOTIATION', 'boolean'],
  handshakeTimeoutMs: ['MTLS_HANDSHAKE_TIMEOUT_MS', 'int'],
  requestHeaderTimeoutMs: ['MTLS_REQUEST_HEADER_TIMEOUT_MS', 'int'],
  securityLevel: ['MTLS_SECURITY_LEVEL', 'int'],
};

/** One variable from an EnvSource, trimmed; undefined when unset or blank. */
export function readEnv(source: EnvSource, name: string): string | undefined {
  const value = typeof source.get === 'function' ? (source as { get(n: string): unknown }).get(name) : (source as Record<string, string | undefined>)[name];
  return value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim();
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/**
 * Reads MtlsOptions from `MTLS_*` variables. Only variables that are set (and
 * not empty) become options, so the result can be spread over defaults.
 * A value of the wrong kind throws MtlsConfigError naming the variable.
 */
export function mtlsOptionsFromEnv(source: EnvSource = process.env): MtlsOptions {
  const options: Record<string, unknown> = {};
  for (const [option, [variable, kind]] of Object.entries(MTLS_ENV)) {
    const value = readEnv(source, variable);
    if (value === undefined) continue;
    options[option] = parse(variable, option, kind, value);
  }
  // Shape problems (a number out of range, say) name the variable they came from, and the option.
  const problem = firstShapeProblem(options);
  if (problem) {
    const variable = MTLS_ENV[problem.option as keyof MtlsOptions]?.[0];
    throw variable ? new MtlsConfigError(variable, `${problem.option} ${problem.problem}`) : new MtlsConfigError(problem.option, problem.problem);
  }
  return options as MtlsOptions;
}

function parse(variable: string, option: string, kind: Kind, value: string): unknown {
  switch (kind) {
    case 'string':
      return value;
    case 'list':
      return value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    case 'int': {
      if (!/^\d+$/.test(value)) throw new MtlsConfigError(variable, `expected a whole number for ${option}, got "${value}"`);
      return Number(value);
    }
    case 'boolean': {
      const lower = value.toLowerCase();
      if (TRUE.includes(lower)) return true;
      if (FALSE.includes(lower)) return false;
      throw new MtlsConfigError(variable, `expected true or false for ${option}, got "${value}"`);
    }
  }
}
