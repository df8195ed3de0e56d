import * as x509 from '@peculiar/x509';
import type { X509Certificate } from 'node:crypto';
import { issuerDn, subjectDn } from '../identity/dn-format';
import { logSafe } from '../logging/log-safe';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { MtlsReloadResult, MtlsRole } from '../material/material-source';
import type { LoadedCrl } from '../material/tls-material.interface';

const DAY_MS = 24 * 3600 * 1000;

/** The certificate warning threshold when none is given: 14 days, as the admin port's `expiryWarningDays`. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 14;

/** One check of the application's TLS material: up or down, and what terminus shows of it (`message` when down, `warning` when up but soon not). */
export interface TlsHealthCheck {
  up: boolean;
  details: Record<string, unknown>;
}

/**
 * Our certificate: down when expired or not yet valid; `expiresSoon` (and a
 * `warning`) when fewer than `warningDays` are left.
 */
export function certificateCheck(snapshot: MtlsMaterialSnapshot, roles: ReadonlySet<MtlsRole>, now: Date, warningDays: number): TlsHealthCheck {
  const leaf = snapshot.material.identity.chain[0];
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const daysLeft = Math.floor(((notAfter.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
  const details = {
    subject: safeDn(() => subjectDn(leaf), leaf.subject),
    issuer: safeDn(() => issuerDn(leaf), leaf.issuer),
    serial: leaf.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft,
    warningDays,
    expiresSoon: daysLeft < warningDays,
    roles: [...roles],
  };
  if (notAfter <= now) return { up: false, details: { ...details, message: `our certificate expired on ${details.notAfter}` } };
  if (notBefore > now) return { up: false, details: { ...details, message: `our certificate is not valid before ${details.notBefore}` } };
  if (details.expiresSoon) return { up: true, details: { ...details, warning: `our certificate expires in ${daysLeft} days (warning from ${warningDays} days): renew it` } };
  return { up: true, details };
}

/** How many CAs we trust. */
export function trustStoreCheck(snapshot: MtlsMaterialSnapshot): TlsHealthCheck {
  return { up: true, details: { size: snapshot.material.trust.cas.length } };
}

/** Each CRL's dates; down when one is out of date and the failure policy is closed. */
export function crlsCheck(snapshot: MtlsMaterialSnapshot, now: Date): TlsHealthCheck {
  const loaded = snapshot.material.crls ?? [];
  if (loaded.length === 0) return { up: true, details: { configured: false } };
  // The revocation options name the policy `revocationFailure`; without them, an out-of-date CRL refuses clients (closed).
  const failurePolicy = (snapshot.options as { revocationFailure?: 'open' | 'closed' }).revocationFailure ?? 'closed';
  const crls = loaded.map((one) => ({
    issuer: crlIssuer(one, snapshot),
    thisUpdate: one.crl.thisUpdate?.toISOString(),
    nextUpdate: one.crl.nextUpdate?.toISOString() ?? null,
    current: !one.crl.nextUpdate || one.crl.nextUpdate > now,
  }));
  const stale = crls.filter((c) => !c.current);
  const details = { configured: true, failurePolicy, count: crls.length, crls };
  if (stale.length === 0) return { up: true, details };
  const message = `the CRL of ${stale.map((c) => c.issuer).join('; ')} is past its nextUpdate (${stale.map((c) => c.nextUpdate).join(', ')})`;
  if (failurePolicy === 'closed') return { up: false, details: { ...details, message: `${message}: every client it covers is refused; publish a current CRL` } };
  return { up: true, details: { ...details, warning: `${message}; revocationFailure is open, so clients are let in` } };
}

/** The material in use and the last reload; down when the last reload failed. */
export function reloadCheck(snapshot: MtlsMaterialSnapshot, last: MtlsReloadResult | undefined): TlsHealthCheck {
  const details = {
    generation: snapshot.generation,
    loadedAt: snapshot.loadedAt.toISOString(),
    lastResult: last?.result ?? 'none',
    lastAt: last?.at.toISOString(),
    trigger: last ? logSafe(last.reason) : undefined,
  };
  if (last?.result === 'failure') {
    return { up: false, details: { ...details, error: logSafe(last.error ?? 'unknown', 600), message: `the last reload failed; still serving generation ${snapshot.generation}` } };
  }
  return { up: true, details };
}

const peculiarSubjects = new WeakMap<X509Certificate, string>();

/** The issuer of a CRL as the guard writes DNs (RFC 4514), found among our CAs; the CRL's own rendering otherwise. */
function crlIssuer(loaded: LoadedCrl, snapshot: MtlsMaterialSnapshot): string {
  const known = loaded.issuerCa;
  const candidates = known ? [known] : [...snapshot.material.trust.cas, ...snapshot.material.identity.chain.slice(1)];
  const issuer = String(loaded.crl.issuer);
  for (const ca of candidates) {
    let subject = peculiarSubjects.get(ca);
    if (subject === undefined) {
      subject = new x509.X509Certificate(ca.raw).subject;
      peculiarSubjects.set(ca, subject);
    }
    if (known || subject === issuer) return safeDn(() => subjectDn(ca), issuer);
  }
  return issuer;
}

function safeDn(format: () => string, fallback: string): string {
  try {
    return format();
  } catch {
    return fallback.replace(/\n/g, ', ');
  }
}
