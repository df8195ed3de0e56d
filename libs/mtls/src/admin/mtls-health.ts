import { HttpException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { MtlsMaterialSource } from '../material/material-source';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { certificateCheck, crlsCheck, reloadCheck, trustStoreCheck, type TlsHealthCheck } from '../health/tls-health-checks';
import { MTLS_ADMIN_OPTIONS } from './mtls-admin.module-definition';
import { resolveAdminOptions, type MtlsAdminOptions, type ResolvedMtlsAdminOptions } from './mtls-admin-options';

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
    return this.result('certificate', certificateCheck(snapshot, this.source.rolesInUse(), now, this.options.expiryWarningDays));
  }

  /** How many CAs we trust. */
  protected trustStore(snapshot: MtlsMaterialSnapshot): HealthIndicatorResult {
    return this.result('trustStore', trustStoreCheck(snapshot));
  }

  /** Each CRL's dates; down when one is out of date and the failure policy is closed. */
  protected crls(snapshot: MtlsMaterialSnapshot, now: Date): HealthIndicatorResult {
    return this.result('crls', crlsCheck(snapshot, now));
  }

  /** The material in use and the last reload; down when the last reload failed. */
  protected reload(snapshot: MtlsMaterialSnapshot): HealthIndicatorResult {
    return this.result('reload', reloadCheck(snapshot, this.source.lastReload));
  }

  private result(key: string, check: TlsHealthCheck): HealthIndicatorResult {
    const session = this.indicators.check(key);
    return check.up ? session.up(check.details) : session.down(check.details);
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
