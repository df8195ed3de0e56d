import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { MtlsMaterialSource } from '../material/material-source';
import { certificateCheck, crlsCheck, DEFAULT_EXPIRY_WARNING_DAYS, reloadCheck, trustStoreCheck, type TlsHealthCheck } from './tls-health-checks';

/** What `MtlsHealthIndicator.isHealthy` checks against. */
export interface MtlsHealthIndicatorOptions {
  /** Our certificate is `expiresSoon` (with a `warning`, still up) when fewer days than this are left (default 14). */
  expiryWarningDays?: number;
}

/**
 * A terminus health indicator for the application's mutual TLS, for a
 * `/health` of your own (the admin port of `nest-mtls/admin` has its own):
 * the checks of the admin port's `/health` as one indicator, with
 * `certificate`, `trustStore`, `crls` and `reload` in its details. Down
 * when our certificate has expired (or is not valid yet), a CRL is out of
 * date under `revocationFailure: 'closed'`, or the last reload failed.
 * Nothing in it is key material, a password or a policy.
 *
 *     @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [MtlsHealthIndicator] })
 *
 *     @Get('health') @HealthCheck()
 *     check() { return this.health.check([() => this.mtls.isHealthy('mtls')]); }
 *
 * Needs MtlsModule (its MtlsMaterialSource) and @nestjs/terminus's
 * HealthIndicatorService (import TerminusModule where you provide it).
 */
@Injectable()
export class MtlsHealthIndicator {
  constructor(
    private readonly source: MtlsMaterialSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** Checks the material in use now, under `key` (default `mtls`). */
  isHealthy(key = 'mtls', options: MtlsHealthIndicatorOptions = {}): HealthIndicatorResult {
    const snapshot = this.source.current();
    const now = new Date();
    const checks: Record<string, TlsHealthCheck> = {
      certificate: certificateCheck(snapshot, this.source.rolesInUse(), now, options.expiryWarningDays ?? DEFAULT_EXPIRY_WARNING_DAYS),
      trustStore: trustStoreCheck(snapshot),
      crls: crlsCheck(snapshot, now),
      reload: reloadCheck(snapshot, this.source.lastReload),
    };
    const details = Object.fromEntries(Object.entries(checks).map(([name, check]) => [name, { status: check.up ? 'up' : 'down', ...check.details }]));
    const down = Object.entries(checks).filter(([, check]) => !check.up);
    const session = this.indicators.check(key);
    if (down.length === 0) return session.up(details);
    return session.down({ ...details, message: down.map(([name, check]) => `${name}: ${String(check.details.message)}`).join('; ') });
  }
}
