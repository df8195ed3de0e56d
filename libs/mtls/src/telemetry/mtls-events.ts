import { Subject } from 'rxjs';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { PolicyRuleCode } from '../policy/client-cert-decision';
import type { MtlsRevocationCheck } from '../revocation/revocation-answer';
import { MtlsCounts, type GuardRefusalReason } from './mtls-counts';
import type { TlsConnectionInfo } from './tls-connection';
import type { TlsRefusal } from './tls-refusal';

export type { GuardRefusalReason } from './mtls-counts';

/**
 * What each guard refusal reason means and what the caller gets (HTTP
 * status; RpcException on TCP microservices, the `exception` event on
 * WebSockets): docs/reference/errors.md is generated from it.
 */
export const GUARD_REFUSAL_REASONS: Readonly<Record<GuardRefusalReason, { status: 400 | 403; meaning: string }>> = {
  'no-certificate': { status: 403, meaning: 'No certificate was presented (or forwarded by the trusted proxy).' },
  unverified: { status: 403, meaning: 'A certificate that did not verify (in the handshake, or a forwarded one re-verified here).' },
  unreadable: { status: 403, meaning: 'A verified certificate whose names cannot be read exactly (fails closed).' },
  'malformed-forwarded-header': { status: 400, meaning: "The trusted proxy's forwarded-certificate header cannot be read." },
  'endpoint-identification': { status: 403, meaning: 'The certificate does not name the address the client connects from (endpointIdentification HTTPS).' },
  policy: { status: 403, meaning: "The route's policy refused the identity (`rule` says which rule)." },
};

/** One decision of ClientCertGuard. */
export interface GuardDecision {
  /** The Nest route path (`/users/:id`) or message pattern (`{"cmd":"get_user"}`), never the raw URL. */
  route: string;
  /**
   * `allowed`; `refused` (403, RpcException, or 400 for a malformed forwarded
   * header); `audited`: the policy would have refused, and the route's mode is
   * `audit`, so the caller was let in.
   */
  outcome: 'allowed' | 'refused' | 'audited';
  /** For `refused` and `audited`: why (a bounded code). */
  reason?: GuardRefusalReason;
  /** For reason `policy`: which rule of the policy refused (a bounded code: the rule field, `anyOf`, `deny`, `custom`...). */
  rule?: PolicyRuleCode;
  /**
   * For `refused` and `audited`: the reason in words, as the log line says
   * it (`SPIFFE ID spiffe://example.org/event-service does not satisfy: ...`).
   * It holds what the caller presented: never use it as a metric label.
   */
  detail?: string;
  /** The route's policy mode: `enforce` or `audit`. */
  mode: 'enforce' | 'audit';
  /** Where the caller's identity came from: its own TLS connection, or a certificate forwarded by the trusted proxy. */
  via?: 'tls' | 'proxy';
  /** The caller's verified subject, when there was one. */
  subject?: string;
  /** `127.0.0.1:51234` (the TLS peer: the proxy, when the identity was forwarded) */
  peer: string;
}

/** One completed TLS handshake on a server of the application (full or resumed), before anything else judged the connection. */
export interface TlsHandshake extends TlsConnectionInfo {
  /** `127.0.0.1:51234` */
  peer: string;
}

/**
 * What happens to mTLS in one application, as streams: refused
 * connections (with their stable reason codes), guard decisions, and the
 * verified client certificates seen. Metrics, health and audit tools
 * subscribe; nothing here is logged or kept. One per application
 * (MtlsModule provides it; `MtlsMaterialSource.reloads` has the reloads).
 * Admitted calls and completed handshakes are told to a stream only while
 * someone subscribes to it; `counts` counts every one of them (and every
 * refusal) in plain numbers, which is what metrics reads.
 */
export class MtlsEvents {
  /** Every guard decision and completed handshake, counted (see MtlsCounts). */
  readonly counts = new MtlsCounts();
  /** The identity last told to `verifiedCallers` (repeats in a row are told once). */
  private lastVerifiedCaller?: ClientIdentity;
  /** Every connection refused at the TLS level (handshake, renegotiation, idle), on every endpoint. */
  readonly refusals = new Subject<TlsRefusal>();
  /** Every completed TLS handshake, on every endpoint (refusals after it, e.g. revocation, are in `refusals` too). */
  readonly handshakes = new Subject<TlsHandshake>();
  /** Every decision of ClientCertGuard. */
  readonly guardDecisions = new Subject<GuardDecision>();
  /**
   * The identity of each verified caller the guard judged (for the expiry of
   * callers' certificates); the same identity judged again in a row is told
   * once (what a most-recently-seen list needs).
   */
  readonly verifiedCallers = new Subject<ClientIdentity>();
  /** Every revocation check (when revocation checking is on). */
  readonly revocationChecks = new Subject<MtlsRevocationCheck>();

  /** Tells `verifiedCallers` about `identity`, unless it was the last one told, or nobody listens. */
  sawVerifiedCaller(identity: ClientIdentity): void {
    if (identity === this.lastVerifiedCaller || !this.verifiedCallers.observed) return;
    this.lastVerifiedCaller = identity;
    this.verifiedCallers.next(identity);
  }

  /** Ends every stream (at shutdown). */
  complete(): void {
    this.refusals.complete();
    this.handshakes.complete();
    this.guardDecisions.complete();
    this.verifiedCallers.complete();
    this.revocationChecks.complete();
  }
}
