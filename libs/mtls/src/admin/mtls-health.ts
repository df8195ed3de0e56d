import { HttpException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import * as x509 from '@peculiar/x509';
import type { X509Certificate } from 'node:crypto';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { subjectDn, issuerDn } from '../identity/dn-format';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { MtlsMaterialSource } from '../material/material-source';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import type { LoadedCrl } from '../material/tls-material.interface';
import { MTLS_ADMIN_OPTIONS } from './mtls-admin.module-definition';
import { resolveAdminOptions, type MtlsAdminOptions, type ResolvedMtlsAdminOptions } from './mtls-admin-options';

const DAY_MS = 24 * 3600 * 1000;

/** One answer of /health: the HTTP status (200 or 503) and terminus' body. */
export interface MtlsHealthAnswer {
  httpStatus: 200 | 503;
  body: HealthCheckResult;
}

/**
 * The health of the application's mutual TLS, as terminus checks
 * (`HealthCheckService`): `status` `ok` (200) or `error` (503), with details
 * per check:
 *
 * - `certificate`: our certificate's subject, issuer, serial, notBefore,
 *   notAfter, `daysLeft`, and `expiresSoon` with a `warning` when fewer than
 *   `expiryWarningDays` (14) are left; down when it has expired (or is not
 *   valid yet);
 * - `trustStore`: how many CAs we trust;
 * - `crls`: each CRL's issuer, thisUpdate, nextUpdate and whether it is
 *   current; down when one is past its nextUpdate and the failure policy is
 *   closed (the default: OpenSSL then refuses every client that CRL covers);
 * - `reload`: the material's generation and the last reload's result, time
 *   and error; down when the last reload failed (the files on disk are
 *   broken: the last good material is still served, but a restart would
 *   not start);
 * - `listening`: down until the application's HTTP server listens (the
 *   admin port opens while the application bootstraps, a moment before);
 *   absent in an application without one;
 * - then the `healthIndicators` of the options.
 *
 * Nothing in it is key material, a password or a policy. Changes of the
 * overall status are logged once each (not every probe).
 */
@Injectable()
export class MtlsHealth {
  private readonly logger = new Logger('MtlsHealth');
  private readonly options: ResolvedMtlsAdminOptions;
  private lastStatus?: string;

  constructor(
    private readonly source: MtlsMaterialSource,
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(MTLS_ADMIN_OPTIONS) options: MtlsAdminOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.options = resolveAdminOptions(options);
  }

  /** Runs every check now. */
  async check(now = new Date()): Promise<MtlsHealthAnswer> {
    const snapshot = this.source.current();
    let answer: MtlsHealthAnswer;
    try {
      const body = await this.health.check([
        () => this.certificate(snapshot, now),
        () => this.trustStore(snapshot),
        () => this.crls(snapshot, now),
        () => this.reload(snapshot),
        ...(this.adapterHost?.httpAdapter ? [() => this.listening()] : []),
        ...this.options.healthIndicators,
      ]);
      answer = { httpStatus: 200, body };
    } catch (err) {
      const body =
        err instanceof HttpException && typeof err.getResponse() === 'object'
          ? (err.getResponse() as HealthCheckResult)
          : ({ status: 'error', error: { health: { status: 'down', message: logSafe((err as Error)?.message ?? err) } }, details: {} } as unknown as HealthCheckResult);
      answer = { httpStatus: 503, body };
    }
    this.logChange(answer.body);
    return answer;
  }

  /** Our certificate: down when expired or not yet valid; `expiresSoon` within the warning threshold. */
  protected certificate(snapshot: MtlsMaterialSnapshot, now: Date): HealthIndicatorResult {
    const leaf = snapshot.material.identity.chain[0];
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    const daysLeft = Math.floor(((notAfter.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
    const warningDays = this.options.expiryWarningDays;
    const details = {
      subject: safeDn(() => subjectDn(leaf), leaf.subject),
      issuer: safeDn(() => issuerDn(leaf), leaf.issuer),
      serial: leaf.serialNumber,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      daysLeft,
      warningDays,
      expiresSoon: daysLeft < warningDays,
      roles: [...this.source.rolesInUse()],
    };
    const session = this.indicators.check('certificate');
    if (notAfter <= now) return session.down({ ...details, message: `our certificate expired on ${details.notAfter}` });
    if (notBefore > now) return session.down({ ...details, message: `our certificate is not valid before ${details.notBefore}` });
    if (details.expiresSoon) return session.up({ ...details, warning: `our certificate expires in ${daysLeft} days (warning from ${warningDays} days): renew it` });
    return session.up(details);
  }

  /** How many CAs we trust. */
  protected trustStore(snapshot: MtlsMaterialSnapshot): HealthIndicatorResult {
    return this.indicators.check('trustStore').up({ size: snapshot.material.trust.cas.length });
  }

  /** Each CRL's dates; down when one is out of date and the failure policy is closed. */
  protected crls(snapshot: MtlsMaterialSnapshot, now: Date): HealthIndicatorResult {
    const session = this.indicators.check('crls');
    const loaded = snapshot.material.crls ?? [];
    if (loaded.length === 0) return session.up({ configured: false });
    // The revocation options name the policy `revocationFailure`; without them, an out-of-date CRL refuses clients (closed).
    const failurePolicy = (snapshot.options as { revocationFailure?: 'open' | 'closed' }).revocationFailure ?? 'closed';
    const crls = loaded.map(({ crl }, i) => ({
      issuer: crlIssuer(loaded[i], snapshot),
      thisUpdate: crl.thisUpdate?.toISOString(),
      nextUpdate: crl.nextUpdate?.toISOString() ?? null,
      current: !crl.nextUpdate || crl.nextUpdate > now,
    }));
    const stale = crls.filter((c) => !c.current);
    const details = { configured: true, failurePolicy, count: crls.length, crls };
    if (stale.length === 0) return session.up(details);
    const message = `the CRL of ${stale.map((c) => c.issuer).join('; ')} is past its nextUpdate (${stale.map((c) => c.nextUpdate).join(', ')})`;
    if (failurePolicy === 'closed') return session.down({ ...details, message: `${message}: every client it covers is refused; publish a current CRL` });
    return session.up({ ...details, warning: `${message}; revocationFailure is open, so clients are let in` });
  }

  /** The material in use and the last reload; down when the last reload failed. */
  protected reload(snapshot: MtlsMaterialSnapshot): HealthIndicatorResult {
    const last = this.source.lastReload;
    const details = {
      generation: snapshot.generation,
      loadedAt: snapshot.loadedAt.toISOString(),
      lastResult: last?.result ?? 'none',
      lastAt: last?.at.toISOString(),
      trigger: last ? logSafe(last.reason) : undefined,
    };
    const session = this.indicators.check('reload');
    if (last?.result === 'failure') {
      return session.down({ ...details, error: logSafe(last.error ?? 'unknown', 600), message: `the last reload failed; still serving generation ${snapshot.generation}` });
    }
    return session.up(details);
  }

  /** Whether the application's HTTP server listens yet (readiness). */
  protected listening(): HealthIndicatorResult {
    const session = this.indicators.check('listening');
    return this.adapterHost?.listening ? session.up() : session.down({ message: 'the application does not listen yet' });
  }

  private logChange(body: HealthCheckResult): void {
    if (body.status === this.lastStatus) return;
    const first = this.lastStatus === undefined;
    this.lastStatus = body.status;
    const down = Object.entries(body.error ?? {}).map(([key, value]) => `${key}: ${(value as { message?: string }).message ?? 'down'}`);
    if (down.length > 0) logLine(this.logger, 'warn', `health is ${body.status}: ${logSafe(down.join('; '), 800)}`, { event: 'health_changed', status: body.status, down: Object.keys(body.error ?? {}).join(',') });
    else if (!first) logLine(this.logger, 'log', `health is ${body.status} again`, { event: 'health_changed', status: body.status });
  }
}

const peculiarSubjects = new WeakMap<X509Certificate, string>();

/** The issuer of a CRL as the guard writes DNs (RFC 4514), found among our CAs; the CRL's own rendering otherwise. */
function crlIssuer(loaded: LoadedCrl, snapshot: MtlsMaterialSnapshot): string {
  const known = (loaded as LoadedCrl & { issuerCa?: X509Certificate }).issuerCa;
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
