import { Logger } from '@nestjs/common';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { peerGroupOf } from '../logging/peer-group';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { peerHostOf } from '../logging/peer-address';
import { refusalHint } from '../telemetry/refusal-reason';
import type { TlsRefusal } from '../telemetry/tls-refusal';

const STAGE: Record<TlsRefusal['stage'], string> = {
  handshake: 'TLS handshake',
  renegotiation: 'TLS renegotiation',
  connection: 'connection',
  revocation: 'connection',
  live: 'open connection',
};
const VERB: Record<TlsRefusal['stage'], string> = { handshake: 'refused', renegotiation: 'refused', connection: 'refused', revocation: 'refused', live: 'closed' };

/**
 * Writes each refused connection as one line (peer, reason code, detail,
 * presented subject, a hint where one helps), with peer-supplied text made
 * safe for the log, and summarises repeats of the same refusal from the same
 * peer host instead of writing each, fairly per peer host (one host, or one
 * IPv6 /64, flooding cannot keep another's refusals out of the log); a
 * refusal of a revoked certificate is always written. Listeners (metrics) see every refusal.
 * Each line carries the fields `event` (`tls_refused`), `stage`, `reason`,
 * `peer`, `subject` and `detail` for JSON logs (peer-supplied text escaped
 * and bounded there too).
 */
export class TlsRefusalLog {
  private readonly listeners = new Set<(refusal: TlsRefusal) => void>();
  private readonly summarizer: RepeatSummarizer;

  constructor(private readonly logger = new Logger('MtlsServer')) {
    this.summarizer = new RepeatSummarizer((line, fields) => logLine(this.logger, 'warn', line, fields));
  }

  record(refusal: TlsRefusal): void {
    for (const listener of this.listeners) listener(refusal);
    const what = `${STAGE[refusal.stage]} from`;
    const detail = refusal.detail ? ` (${logSafe(refusal.detail, refusal.stage === 'revocation' || refusal.stage === 'live' || refusal.reason === 'revoked' ? 400 : 120)})` : '';
    const key = [refusal.stage, peerHostOf(refusal.peer), refusal.reason, refusal.detail, refusal.subject].join('\u0000');
    const fields = {
      event: 'tls_refused',
      stage: refusal.stage,
      reason: refusal.reason,
      peer: logSafe(refusal.peer, 64),
      subject: refusal.subject !== undefined ? logSafe(refusal.subject) : undefined,
      detail: refusal.detail !== undefined ? logSafe(refusal.detail, 120) : undefined,
    };
    this.summarizer.report(
      key,
      () => {
        const subject = refusal.subject !== undefined ? `; presented subject ${logSafe(refusal.subject)}` : '';
        const hint = refusalHint(refusal.reason, refusal.detail);
        return `${what} ${logSafe(refusal.peer, 64)} ${VERB[refusal.stage]}: ${refusal.reason}${detail}${subject}${hint ? `; hint: ${hint}` : ''}`;
      },
      (repeats, seconds) => `${what} ${logSafe(peerHostOf(refusal.peer), 64)} ${VERB[refusal.stage]}: ${refusal.reason}${detail}: and ${repeats} more in the last ${seconds} s`,
      fields,
      { ...fields, peer: logSafe(peerHostOf(refusal.peer), 64) },
      { peer: logSafe(peerGroupOf(peerHostOf(refusal.peer)), 64), always: refusal.reason === 'revoked' },
    );
  }

  /** Calls `listener` for every refusal (not only the logged ones); returns a function that stops it. */
  onRefusal(listener: (refusal: TlsRefusal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes pending repeat summaries now. */
  flush(): void {
    this.summarizer.flush();
  }
}
