import { Subject } from 'rxjs';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { MtlsRevocationCheck } from '../revocation/revocation-answer';
import type { TlsRefusal } from '../server/tls-refusal-log';

/** One decision of ClientCertGuard. */
export interface GuardDecision {
  /** The Nest route path (`/users/:id`) or message pattern (`{"cmd":"get_user"}`), never the raw URL. */
  route: string;
  outcome: 'allowed' | 'refused';
  /** The caller's verified subject, when there was one. */
  subject?: string;
  /** `127.0.0.1:51234` */
  peer: string;
}

/**
 * What happens to mTLS in one application, as streams: refused
 * connections (with their stable reason codes), guard decisions, and the
 * verified client certificates seen. Metrics, health and audit tools
 * subscribe; nothing here is logged or kept. One per application
 * (MtlsModule provides it; `MtlsMaterialSource.reloads` has the reloads).
 */
export class MtlsEvents {
  /** Every connection refused at the TLS level (handshake, renegotiation, idle), on every endpoint. */
  readonly refusals = new Subject<TlsRefusal>();
  /** Every decision of ClientCertGuard. */
  readonly guardDecisions = new Subject<GuardDecision>();
  /** The identity of each verified caller the guard judged (for the expiry of callers' certificates). */
  readonly verifiedCallers = new Subject<ClientIdentity>();
  /** Every revocation check (when revocation checking is on). */
  readonly revocationChecks = new Subject<MtlsRevocationCheck>();

  /** Ends every stream (at shutdown). */
  complete(): void {
    this.refusals.complete();
    this.guardDecisions.complete();
    this.verifiedCallers.complete();
    this.revocationChecks.complete();
  }
}
