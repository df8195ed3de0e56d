import type { PolicyRuleCode } from '../policy/client-cert-decision';

/**
 * Why ClientCertGuard refused (or, in audit mode, would have refused) a caller:
 * - `no-certificate`: none presented (or forwarded);
 * - `unverified`: a certificate that did not verify (in the handshake, or a forwarded one re-verified here);
 * - `unreadable`: a verified certificate whose names cannot be read exactly;
 * - `malformed-forwarded-header`: the trusted proxy's forwarded-certificate header cannot be read (400);
 * - `endpoint-identification`: the certificate does not name the address the client connects from;
 * - `policy`: the route's policy refused the identity.
 */
export type GuardRefusalReason = 'no-certificate' | 'unverified' | 'unreadable' | 'malformed-forwarded-header' | 'endpoint-identification' | 'policy';

/** What ClientCertGuard did with a call: let it in, refused it, or (audit mode) let in one it would refuse. */
export type GuardOutcome = 'allowed' | 'refused' | 'audited';

/** How many decisions of one outcome ClientCertGuard took on one route. */
export interface GuardDecisionCount {
  readonly route: string;
  readonly outcome: GuardOutcome;
  count: number;
}

/** How many refusals (or callers audit mode let in) of one route had one reason and rule. */
export interface GuardRefusalCount extends GuardDecisionCount {
  readonly reason: GuardRefusalReason;
  /** The policy's rule for reason `policy`, else empty. */
  readonly rule: PolicyRuleCode | '';
}

/**
 * What happens to mTLS in one application, counted in plain numbers that
 * metrics reads when scraped: the request and handshake paths only
 * increment (no stream emission, no allocation, no label hashing per request
 * or connection). An admitted call is counted by the route's counter, which
 * the guard keeps (`allowedOn`): one increment.
 */
export class MtlsCounts {
  /** Guard decisions by route and outcome. */
  readonly decisions = new Map<string, GuardDecisionCount>();
  /** Guard refusals and audited callers by route, outcome, reason and rule. */
  readonly refusals = new Map<string, GuardRefusalCount>();
  /** Completed TLS handshakes by key-exchange group label (see `groupLabel`). */
  readonly handshakes = new Map<string, number>();

  /** The counter of admitted calls on `route` (made once per route; `count++` counts one). */
  allowedOn(route: string): GuardDecisionCount {
    return this.decisionCount(route, 'allowed');
  }

  /** Counts a refusal, or a caller audit mode let in. */
  refused(route: string, outcome: 'refused' | 'audited', reason: GuardRefusalReason, rule: PolicyRuleCode | undefined): void {
    this.decisionCount(route, outcome).count++;
    const key = `${outcome}\u0000${route}\u0000${reason}\u0000${rule ?? ''}`;
    const counted = this.refusals.get(key);
    if (counted) counted.count++;
    else this.refusals.set(key, { route, outcome, reason, rule: rule ?? '', count: 1 });
  }

  /** Counts a completed handshake whose key-exchange group has the label `group`. */
  handshake(group: string): void {
    this.handshakes.set(group, (this.handshakes.get(group) ?? 0) + 1);
  }

  private decisionCount(route: string, outcome: GuardOutcome): GuardDecisionCount {
    const key = `${outcome}\u0000${route}`;
    let counted = this.decisions.get(key);
    if (!counted) this.decisions.set(key, (counted = { route, outcome, count: 0 }));
    return counted;
  }
}
