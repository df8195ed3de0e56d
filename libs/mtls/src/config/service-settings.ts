import { spiffeIdProblem } from '../identity/spiffe-id';

/** Settings of a service besides MtlsOptions: a port, an upstream URL and its SPIFFE ID, checked at startup. */

/** A port from a variable such as PORT, or an Error naming the variable; `fallback` when unset. */
export function portSetting(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new Error(`${name}: expected a port number, got "${value}"`);
  return port;
}

/** An https:// base URL from a variable such as USER_SERVICE_URL (trailing slashes dropped), or an Error naming it. */
export function httpsUrlSetting(name: string, value: string | undefined, fallback: string): string {
  const raw = value === undefined || value.trim() === '' ? fallback : value.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name}: not a URL: "${raw}"`);
  }
  if (url.protocol !== 'https:') throw new Error(`${name}: expected an https:// URL (mutual TLS), got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/**
 * A duration in whole milliseconds from a variable such as SHUTDOWN_TIMEOUT_MS
 * (0 to 86400000), or an Error naming the variable; `fallback` when unset.
 */
export function millisecondsSetting(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const ms = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || ms > 86_400_000) throw new Error(`${name}: expected a whole number of milliseconds from 0 to 86400000, got "${value}"`);
  return ms;
}

/**
 * A SPIFFE ID from a variable such as USER_SERVICE_SPIFFE_ID (who an
 * upstream must be, for `serverIdentity`), or an Error naming the variable
 * and what is wrong; undefined when unset or empty.
 */
export function spiffeIdSetting(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const id = value.trim();
  const problem = spiffeIdProblem(id);
  if (problem) throw new Error(`${name}: not a SPIFFE ID: ${problem}, got "${id}"`);
  return id;
}
