import type { RefusalReason } from './refusal-reason';

/** What each stage of a TlsRefusal means, in one line (docs/reference/errors.md is generated from it). */
export const TLS_REFUSAL_STAGES: Readonly<Record<TlsRefusal['stage'], string>> = {
  handshake: 'In the first TLS handshake.',
  renegotiation: 'In a renegotiation of an established TLS 1.2 connection.',
  connection: 'After the handshake, before the first request or message (idle, incomplete or malformed).',
  revocation: 'Right after the handshake, by the revocation check (CRL distribution points, OCSP), before any request is read.',
  live: 'An open connection whose certificate was revoked later (CRL or OCSP refresh, material reload).',
};

/** One connection the server refused at the TLS level. */
export interface TlsRefusal {
  /**
   * Where it was refused: the first handshake, a renegotiation, an idle
   * connection after its handshake, the revocation check right after the
   * handshake (before any request is read), or an open connection whose
   * certificate was revoked later.
   */
  stage: 'handshake' | 'renegotiation' | 'connection' | 'revocation' | 'live';
  /** `127.0.0.1:51234`, as remembered when the connection arrived. */
  peer: string;
  reason: RefusalReason;
  /** The low-level code (OpenSSL verify error, Node error code) or a short explanation. */
  detail?: string;
  /** The subject the peer presented, unverified, when it was cheap to learn. */
  subject?: string;
}
