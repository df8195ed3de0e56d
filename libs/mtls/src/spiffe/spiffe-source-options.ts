import { closestName } from '../config/closest-name';
import { SPIFFE_ENDPOINT_SOCKET } from '../config/mtls-env';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { spiffeIdProblem } from '../identity/spiffe-id';
import { workloadApiAddress, type WorkloadApiAddress } from './workload-api-address';

/** How `spiffeWorkloadApiSource` reaches the SPIFFE Workload API and which SVID it serves. */
export interface SpiffeWorkloadApiSourceOptions {
  /**
   * The Workload API's Unix socket: `unix:///run/spire/sockets/agent.sock`
   * (or the bare absolute path). Default: the `SPIFFE_ENDPOINT_SOCKET`
   * variable, as SPIRE, go-spiffe and spiffe-helper read it.
   */
  socketPath?: string;
  /**
   * The SPIFFE ID to serve when the Workload API offers several SVIDs
   * (`spiffe://example.org/user-service`); an answer without it is refused.
   * Default: the first SVID offered, as go-spiffe picks it. `MTLS_SPIFFE_ID`.
   */
  spiffeId?: string;
  /**
   * How long the stream may stay broken (agent down, socket gone) before
   * the source reports it: the next read fails, /health's `reload` check
   * goes down; the last SVID received is still served meanwhile and after.
   * Milliseconds, default 300000 (5 min). `MTLS_SPIFFE_STALE_AFTER_MS`.
   */
  staleAfterMs?: number;
  /**
   * How long startup waits for the first X509-SVID (the agent may still be
   * starting, or not yet hold an entry for this workload) before it fails,
   * naming the socket. Milliseconds, default 30000.
   * `MTLS_SPIFFE_STARTUP_TIMEOUT_MS`.
   */
  startupTimeoutMs?: number;
}

/** The options with their defaults, and where each came from (for messages). */
export interface ResolvedSpiffeSourceOptions {
  address: WorkloadApiAddress;
  /** The setting that gave the address, and its variable when from the environment. */
  addressSetting: { setting: string; variable?: string };
  spiffeId?: string;
  staleAfterMs: number;
  startupTimeoutMs: number;
  /** The variable each option came from, when it came from one (spiffeWorkloadApiSourceFromEnv). */
  variables: Partial<Record<'spiffeId' | 'staleAfterMs' | 'startupTimeoutMs', string>>;
}

export const DEFAULT_STALE_AFTER_MS = 300_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
/** Most milliseconds either duration takes (a day): more is a typo. */
const MAX_MS = 86_400_000;

const KNOWN = ['socketPath', 'spiffeId', 'staleAfterMs', 'startupTimeoutMs'] as const;

/**
 * Validates the options of `spiffeWorkloadApiSource`; throws MtlsConfigError
 * naming the option (and its variable) and what is wrong. An unknown option
 * (a typo) is refused with the closest name.
 */
export function resolveSpiffeSourceOptions(
  options: SpiffeWorkloadApiSourceOptions = {},
  env: Record<string, string | undefined> = process.env,
  variables: ResolvedSpiffeSourceOptions['variables'] = {},
): ResolvedSpiffeSourceOptions {
  if (options === null || typeof options !== 'object') throw new MtlsConfigError('spiffeWorkloadApiSource', 'expects an options object ({ socketPath, spiffeId, staleAfterMs, startupTimeoutMs }), or nothing');
  for (const name of Object.keys(options)) {
    if ((KNOWN as readonly string[]).includes(name)) continue;
    const near = closestName(name, [...KNOWN]);
    throw new MtlsConfigError(name, `not an option of spiffeWorkloadApiSource; ${near ? `did you mean ${near}?` : `the options are ${KNOWN.join(', ')}`}`);
  }

  const fromEnv = options.socketPath === undefined;
  const addressSetting = fromEnv ? { setting: 'socketPath', variable: SPIFFE_ENDPOINT_SOCKET } : { setting: 'socketPath' };
  const raw = fromEnv ? env[SPIFFE_ENDPOINT_SOCKET] : options.socketPath;
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) {
    throw new MtlsConfigError('socketPath', `not given, and ${SPIFFE_ENDPOINT_SOCKET} is not set: where is the SPIFFE Workload API? e.g. unix:///run/spire/sockets/agent.sock`);
  }
  if (typeof raw !== 'string') throw new MtlsConfigError('socketPath', 'must be a string, e.g. unix:///run/spire/sockets/agent.sock');
  const address = workloadApiAddress(raw);
  if (typeof address === 'string') throw new MtlsConfigError(addressSetting.setting, address, addressSetting.variable);

  if (options.spiffeId !== undefined) {
    const problem = typeof options.spiffeId === 'string' ? spiffeIdProblem(options.spiffeId) : 'not a string';
    if (problem) throw new MtlsConfigError('spiffeId', `"${String(options.spiffeId)}" is not a SPIFFE ID: ${problem}`, variables.spiffeId);
    if (!options.spiffeId.slice('spiffe://'.length).includes('/')) throw new MtlsConfigError('spiffeId', `${options.spiffeId} names a trust domain, not a workload (an X509-SVID's ID has a path)`, variables.spiffeId);
  }
  return {
    address,
    addressSetting,
    spiffeId: options.spiffeId,
    staleAfterMs: milliseconds('staleAfterMs', options.staleAfterMs, DEFAULT_STALE_AFTER_MS, variables.staleAfterMs),
    startupTimeoutMs: milliseconds('startupTimeoutMs', options.startupTimeoutMs, DEFAULT_STARTUP_TIMEOUT_MS, variables.startupTimeoutMs),
    variables,
  };
}

function milliseconds(setting: string, value: unknown, fallback: number, variable?: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_MS) {
    throw new MtlsConfigError(setting, `expected whole milliseconds from 1 to ${MAX_MS}, got ${JSON.stringify(value)}`, variable);
  }
  return value;
}
