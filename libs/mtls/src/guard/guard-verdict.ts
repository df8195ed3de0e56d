import type { PolicyMode } from '../config/mtls-options.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { logSafe } from '../logging/log-safe';
import type { ClientCertRefusal } from '../policy/client-cert-decision';
import type { GuardDecision, GuardRefusalReason } from '../telemetry/mtls-events';
import type { RefusalStatus } from './call-context';

/** Why a verified caller does not pass (ClientCertGuard's `judge`): the reason code, the policy's refusal if it was the policy, and the words for the log. */
export interface GuardProblem {
  reason: GuardRefusalReason;
  /** For reason `policy`: which rule refused, what it wanted, what was found. */
  decision?: ClientCertRefusal;
  /** The log's words (peer-supplied parts already escaped). */
  why: string;
}

/**
 * One decision of ClientCertGuard on one call, as its `record()` tells
 * MtlsEvents and the log: an admission, a refusal, or (audit mode) a
 * refusal let in.
 */
export interface GuardVerdict {
  outcome: GuardDecision['outcome'];
  mode: PolicyMode;
  /** For `refused` and `audited`: the bounded reason code. */
  reason?: GuardRefusalReason;
  /** For reason `policy`: the policy's refusal (its `rule` is counted, its words logged). */
  decision?: ClientCertRefusal;
  /** For `refused` and `audited`: the log's words (peer-supplied parts already escaped). */
  why?: string;
  /** The caller's verified subject (the trusted proxy's for a malformed header), when there is one. */
  subject?: string;
  via?: 'tls' | 'proxy';
  /** The trusted proxy whose header could not be read (named in the log line). */
  proxy?: ClientIdentity;
  /** For `refused`: what the caller is answered (403, 400) and told. */
  status?: RefusalStatus;
  message?: string;
}

/**
 * The log's words for a policy refusal: the rule that refused and what is
 * wrong with the caller, then the caller's subject unless the reason shows
 * it already; never the policy (`mtls explain` and `/policies` say that):
 * `policy refused (rule spiffeId): unexpected SPIFFE ID
 * spiffe://example.org/event-service (subject CN=event-service,O=Example)`.
 * Peer-supplied text escaped.
 */
export function policyRefusalWords(decision: ClientCertRefusal, identity: ClientIdentity): string {
  const subject = decision.reason.includes(identity.subject) ? '' : ` (subject ${logSafe(identity.subject)})`;
  return `policy refused (rule ${decision.rule}): ${logSafe(decision.reason, 800)}${subject}`;
}
