import type { HealthIndicatorFunction } from '@nestjs/terminus';
import { readEnv, type EnvSource } from '../config/env-source';
import { MTLS_EXPIRY_WARNING_DAYS } from '../config/mtls-env';
import { closestName } from '../config/closest-name';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { portSetting } from '../config/service-settings';

/** Options of MtlsAdminModule: where the admin port listens, and what /health and /metrics say. */
export interface MtlsAdminOptions {
  /**
   * Port of the plain-HTTP admin listener (Dropwizard's admin connector:
   * 8081). Unset: no admin listener (the metrics and health providers still
   * exist in the application). 0: a free port (tests).
   */
  port?: number;
  /** Address to bind (default `127.0.0.1`: only this machine; `0.0.0.0` in a container whose probes come from the kubelet). An empty string is refused (Node would bind every interface). */
  host?: string;
  /** /health warns (`expiresSoon`) when our certificate has fewer days left than this (default 14; `MTLS_EXPIRY_WARNING_DAYS`). */
  expiryWarningDays?: number;
  /** Terminus health indicators of your own (a database ping, ...), checked by /health after ours. */
  healthIndicators?: HealthIndicatorFunction[];
  /** prom-client's default process and Node.js metrics on /metrics (default true). */
  defaultMetrics?: boolean;
  /** At most this many distinct callers' subjects in `mtls_peer_certificate_expiry_timestamp_seconds` (default 1000, the most recent). */
  maxPeerSubjects?: number;
  /**
   * `GET /policies`: every route and message pattern with who may call it
   * (MtlsPolicyInventory), for reviewers and operators (default true). Turn
   * it off where the admin port is reachable by more than the operators.
   */
  policies?: boolean;
}

/** The options with their defaults filled in. */
export type ResolvedMtlsAdminOptions = Required<Omit<MtlsAdminOptions, 'port'>> & Pick<MtlsAdminOptions, 'port'>;

/** Defaults of MtlsAdminOptions. */
export const ADMIN_DEFAULTS = { host: '127.0.0.1', expiryWarningDays: 14, defaultMetrics: true, maxPeerSubjects: 1000, policies: true } as const;

/** The variable of each option mtlsAdminOptionsFromEnv reads (docs/reference/options.md is generated from it). */
export const ADMIN_ENV = { port: 'ADMIN_PORT', host: 'ADMIN_HOST', expiryWarningDays: MTLS_EXPIRY_WARNING_DAYS } as const satisfies Partial<Record<keyof MtlsAdminOptions, string>>;

/** Every option of MtlsAdminModule: any other name is a typo, refused rather than ignored. */
const ADMIN_OPTION_NAMES: readonly (keyof MtlsAdminOptions)[] = ['port', 'host', 'expiryWarningDays', 'healthIndicators', 'defaultMetrics', 'maxPeerSubjects', 'policies'];

/** Fills in the defaults and checks the values; throws MtlsConfigError naming the option. */
export function resolveAdminOptions(options: MtlsAdminOptions = {}): ResolvedMtlsAdminOptions {
  for (const name of Object.keys(options)) {
    if ((ADMIN_OPTION_NAMES as readonly string[]).includes(name)) continue;
    const suggestion = closestName(name, ADMIN_OPTION_NAMES);
    throw new MtlsConfigError(name, `is not an option of MtlsAdminModule${suggestion ? `; did you mean "${suggestion}"?` : ''}`);
  }
  const resolved = { ...ADMIN_DEFAULTS, healthIndicators: [], ...stripUndefined(options) } as ResolvedMtlsAdminOptions;
  if (typeof resolved.host !== 'string' || resolved.host.trim() === '') {
    // Node binds an empty host to every interface: the unauthenticated admin port would be open to the network.
    throw new MtlsConfigError('host', `must be an address to bind, got ${JSON.stringify(resolved.host)} (an empty host binds the admin port, which asks for no certificate, on every interface); leave it unset for 127.0.0.1, or write 0.0.0.0 to mean every interface`);
  }
  if (resolved.port !== undefined && (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535)) {
    throw new MtlsConfigError('port', `the admin port must be a whole number from 0 to 65535, got ${resolved.port}`);
  }
  if (!Number.isInteger(resolved.expiryWarningDays) || resolved.expiryWarningDays < 0 || resolved.expiryWarningDays > 3650) {
    throw new MtlsConfigError('expiryWarningDays', `must be a whole number of days from 0 to 3650, got ${resolved.expiryWarningDays}`);
  }
  if (!Number.isInteger(resolved.maxPeerSubjects) || resolved.maxPeerSubjects < 1) {
    throw new MtlsConfigError('maxPeerSubjects', `must be a whole number of at least 1, got ${resolved.maxPeerSubjects}`);
  }
  for (const name of ['defaultMetrics', 'policies'] as const) {
    if (typeof resolved[name] !== 'boolean') throw new MtlsConfigError(name, `must be true or false, got ${JSON.stringify(resolved[name])}`);
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * MtlsAdminOptions from the environment (`process.env`, a record, or
 * @nestjs/config's ConfigService): `ADMIN_PORT` (unset or empty: no admin
 * listener), `ADMIN_HOST` (default 127.0.0.1) and `MTLS_EXPIRY_WARNING_DAYS`
 * (default 14). A bad value is an error naming the variable.
 *
 *     MtlsAdminModule.forRootAsync({ inject: [ConfigService], useFactory: (c: ConfigService) => mtlsAdminOptionsFromEnv(c) })
 */
export function mtlsAdminOptionsFromEnv(source: EnvSource = process.env): MtlsAdminOptions {
  const portText = readEnv(source, ADMIN_ENV.port);
  const days = readEnv(source, ADMIN_ENV.expiryWarningDays);
  if (days !== undefined && (!/^\d+$/.test(days) || Number(days) > 3650)) {
    throw new MtlsConfigError('expiryWarningDays', `expected a whole number of days from 0 to 3650, got "${days}"`, MTLS_EXPIRY_WARNING_DAYS);
  }
  return {
    port: portText === undefined ? undefined : portSetting(ADMIN_ENV.port, portText, 0),
    host: readEnv(source, ADMIN_ENV.host) ?? ADMIN_DEFAULTS.host,
    expiryWarningDays: days === undefined ? ADMIN_DEFAULTS.expiryWarningDays : Number(days),
  };
}
