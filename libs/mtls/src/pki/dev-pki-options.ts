import { Logger } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readEnv, type EnvSource } from '../config/env-source';
import { parseEnvValue } from '../config/env-value';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { mtlsOptionsFromEnv } from '../config/mtls-options-from-env';
import type { MtlsOptions } from '../config/mtls-options.interface';
import { devSpiffeId, ensureDevPki, type PkiLayout } from './dev-pki';

/** Where the development PKI lives unless MTLS_DEV_PKI_DIR says otherwise (git-ignored). */
export const DEV_PKI_DIR = '.dev-pki';

/** How a service asks for the development PKI. */
export interface DevPkiOptions {
  /**
   * Opt in: use the development PKI when no key or trust setting is given
   * (default false). `MTLS_DEV_PKI=true|false`, when set, decides instead.
   * Opting in while NODE_ENV is `production` is a configuration error.
   */
  devPki?: boolean;
  /** Where the `MTLS_*` variables come from: `process.env` (default), a record, or @nestjs/config's ConfigService. */
  env?: EnvSource;
}

/**
 * The options of a service from its `MTLS_*` variables, and, only when the
 * service opted in (`devPki: true` or `MTLS_DEV_PKI=true`) and none of the
 * key and trust settings is given, a development PKI created on first use
 * (MTLS_DEV_PKI_DIR, default ./.dev-pki) and the service's certificate from
 * it. Never implied by a missing setting: without opt-in, missing material is
 * the usual startup error. Opting in with NODE_ENV=production is refused.
 *
 *     mtlsOptionsWithDevPki('user-service', { devPki: process.env.NODE_ENV !== 'production', env: config })
 */
export async function mtlsOptionsWithDevPki(service: string, { devPki = false, env = process.env }: DevPkiOptions = {}): Promise<MtlsOptions> {
  const options = mtlsOptionsFromEnv(env);
  const variable = readEnv(env, 'MTLS_DEV_PKI');
  const optedIn = variable === undefined ? devPki === true : parseEnvValue('MTLS_DEV_PKI', 'devPki', 'boolean', variable) === true;
  if (!optedIn) return options;
  if (readEnv(env, 'NODE_ENV') === 'production') {
    throw new MtlsConfigError(
      'devPki',
      'the development PKI is refused when NODE_ENV is production (its CA keys lie next to its certificates); give keyStorePath and trustStorePath',
      variable === undefined ? undefined : 'MTLS_DEV_PKI',
    );
  }
  const material = options.keyStorePath ?? options.certPath ?? options.keyPath ?? options.trustStorePath;
  if (material !== undefined) return options;
  const pki = await ensureDevPki(resolve(readEnv(env, 'MTLS_DEV_PKI_DIR') ?? DEV_PKI_DIR));
  const logger = new Logger('MtlsModule');
  logger.warn(`${service}: no MTLS_* key or trust settings; using the development PKI in ${pki.dir} (opted in; never in production)`);
  const stale = withoutSpiffeId(pki, service);
  if (stale) logger.warn(stale);
  return {
    keyStorePath: pki.service(service).p12,
    keyStorePassword: pki.password,
    trustStorePath: pki.trustStore,
    crlPath: pki.crl,
    ...options,
  };
}

/** A warning when `service`'s certificate predates the SPIFFE IDs of the development PKI (policies naming them would refuse it). */
function withoutSpiffeId(pki: PkiLayout, service: string): string | undefined {
  let san: string | undefined;
  try {
    san = new X509Certificate(readFileSync(pki.service(service).cert)).subjectAltName;
  } catch {
    return undefined; // no such certificate: the key store setting says so
  }
  const id = devSpiffeId(service);
  if (san?.split(', ').includes(`URI:${id}`)) return undefined;
  return `${service}: its certificate in ${pki.dir} has no SPIFFE ID ${id} (the PKI predates them), so rules naming it refuse this service; re-create the PKI with \`mtls pki init ${pki.dir} --force\``;
}
