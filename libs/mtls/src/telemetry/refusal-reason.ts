/**
 * Why a TLS connection was refused. These codes are stable: logs carry them
 * and metrics count them (`mtls_handshake_failures_total{reason}`).
 */
export type RefusalReason =
  | 'no_certificate'
  | 'unknown_ca'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'crl_expired'
  | 'revocation_unknown'
  | 'bad_purpose'
  | 'weak_key'
  | 'protocol'
  | 'timeout'
  | 'renegotiation'
  | 'other';

/** Every refusal reason code, in a fixed order (for metrics and docs). */
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'no_certificate',
  'unknown_ca',
  'expired',
  'not_yet_valid',
  'revoked',
  'crl_expired',
  'revocation_unknown',
  'bad_purpose',
  'weak_key',
  'protocol',
  'timeout',
  'renegotiation',
  'other',
];

/**
 * What each refusal reason means, in one line: docs/reference/errors.md is
 * generated from it (`npm run docs:reference`); a new reason must say here
 * what it means (the type makes it so).
 */
export const REFUSAL_REASON_MEANINGS: Readonly<Record<RefusalReason, string>> = {
  no_certificate: 'The client sent no certificate (needClientAuth demands one).',
  unknown_ca: 'The client certificate does not chain to a CA of the trust store (unknown issuer, self-signed, a missing intermediate, a bad signature).',
  expired: 'The client certificate, or a CA of its chain, has expired.',
  not_yet_valid: 'The client certificate is not valid yet (check both clocks).',
  revoked: 'The client certificate, or a CA of its chain, is revoked (CRL file, CRL distribution point or OCSP).',
  crl_expired: 'A CRL needed to check the chain is missing, past its nextUpdate, or badly signed.',
  revocation_unknown: 'The revocation status could not be learned (CRL server or OCSP responder down or slow) and revocationFailure is closed.',
  bad_purpose: 'The certificate may not be used for TLS client authentication (no clientAuth extended key usage).',
  weak_key: 'A key or signature of the chain is too weak for securityLevel (e.g. RSA below 2048 bits, SHA-1).',
  protocol: 'The handshake failed on protocol grounds: plain HTTP on the TLS port, an old TLS version, no shared cipher suite, group or ALPN protocol, a flood on HTTP/2.',
  timeout: 'The client did not finish its handshake within handshakeTimeoutMs, or sent no complete request header (TCP microservices: no message) within requestHeaderTimeoutMs of it, or left a message incomplete.',
  renegotiation: 'The client tried to renegotiate, which allowRenegotiation does not allow (or the protocol never allows).',
  other: 'Anything else (the log line has the low-level code in detail), e.g. the client ended the handshake because it does not trust our certificate.',
};

/** OpenSSL's certificate verification errors, as Node names them in `socket.authorizationError`. */
const BY_VERIFY_ERROR: Record<string, RefusalReason> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown_ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_ca',
  CERT_UNTRUSTED: 'unknown_ca',
  CERT_REJECTED: 'unknown_ca',
  CERT_SIGNATURE_FAILURE: 'unknown_ca',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'unknown_ca',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unknown_ca',
  INVALID_CA: 'unknown_ca',
  PATH_LENGTH_EXCEEDED: 'unknown_ca',
  CERT_CHAIN_TOO_LONG: 'unknown_ca',
  CERT_HAS_EXPIRED: 'expired',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'not_yet_valid',
  CERT_REVOKED: 'revoked',
  CRL_HAS_EXPIRED: 'crl_expired',
  CRL_NOT_YET_VALID: 'crl_expired',
  // After an untrusted chain OpenSSL goes on checking and ends at "no CRL for its (unknown) CA"; the
  // startup checks make sure every CA we know has a CRL, so this is most often a chain that is not ours.
  UNABLE_TO_GET_CRL: 'unknown_ca',
  ERROR_IN_CRL_NEXT_UPDATE_FIELD: 'crl_expired',
  ERROR_IN_CRL_LAST_UPDATE_FIELD: 'crl_expired',
  CRL_SIGNATURE_FAILURE: 'crl_expired',
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: 'crl_expired',
  INVALID_PURPOSE: 'bad_purpose',
  EE_KEY_TOO_SMALL: 'weak_key',
  CA_KEY_TOO_SMALL: 'weak_key',
  CA_MD_TOO_WEAK: 'weak_key',
  // Node names only the classic verify errors; OpenSSL's newer ones (EE_KEY_TOO_SMALL, CA_KEY_TOO_SMALL,
  // CA_MD_TOO_WEAK, name constraint violations...) all arrive as UNSPECIFIED. Below our security level
  // is by far the most common of them; the hint names the others.
  UNSPECIFIED: 'weak_key',
};

/** Errors of a handshake that never completed, as Node/OpenSSL name them (`err.code`). */
const BY_TLS_ERROR: Array<[RegExp, RefusalReason]> = [
  [/^ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE$/, 'no_certificate'],
  [/^ERR_TLS_HANDSHAKE_TIMEOUT$/, 'timeout'],
  [/^ERR_TLS_RENEGOTIATION_DISABLED$/, 'renegotiation'],
  [/^ERR_SSL_(EE|CA)_KEY_TOO_SMALL$|^ERR_SSL_CA_MD_TOO_WEAK$/, 'weak_key'],
  [
    /^ERR_SSL_(HTTP_REQUEST|HTTPS_PROXY_REQUEST|WRONG_VERSION_NUMBER|UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|VERSION_TOO_HIGH|NO_PROTOCOLS_AVAILABLE|NO_SHARED_CIPHER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|NO_SUITABLE_SIGNATURE_ALGORITHM|NO_SHARED_SIGNATURE_ALGORITHMS|NO_SUITABLE_KEY_SHARE|NO_SHARED_GROUPS|WRONG_CURVE|UNSAFE_LEGACY_RENEGOTIATION_DISABLED|TLSV1_ALERT_PROTOCOL_VERSION|INAPPROPRIATE_FALLBACK|NO_APPLICATION_PROTOCOL)$/,
    'protocol',
  ],
];

/** The reason code of a certificate verification error (`socket.authorizationError`). */
export function reasonFromVerifyError(code: string): RefusalReason {
  return BY_VERIFY_ERROR[code] ?? 'other';
}

/**
 * The reason code of a failed handshake: the verification error when the
 * handshake got as far as checking the certificate, else the TLS error.
 */
export function reasonFromTlsError(errorCode: string | undefined, verifyError: string | undefined): RefusalReason {
  if (verifyError) return reasonFromVerifyError(verifyError);
  if (!errorCode) return 'other';
  for (const [pattern, reason] of BY_TLS_ERROR) if (pattern.test(errorCode)) return reason;
  return 'other';
}

/** A sentence that tells an operator what to do, where one helps. */
export function refusalHint(reason: RefusalReason, detail: string | undefined): string | undefined {
  switch (reason) {
    case 'no_certificate':
      return 'the client sent no certificate: configure its client certificate and key';
    case 'unknown_ca':
      if (detail === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || detail === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || detail === 'UNABLE_TO_GET_ISSUER_CERT') {
        return 'the issuer of the certificate is not in the trust store: if it comes from one of our intermediate CAs, the client sent no chain; send the intermediate with the certificate';
      }
      if (detail === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'the certificate is self-signed and not in the trust store';
      if (detail === 'UNABLE_TO_GET_CRL') {
        return 'no CRL for a CA of the presented chain: the chain does not lead to a CA we trust, or one of our intermediate CAs has no CRL in crlPath';
      }
      return undefined;
    case 'expired':
      return 'the certificate (or a CA in its chain) has expired: renew it';
    case 'not_yet_valid':
      return 'the certificate is not valid yet: check the clocks of both machines';
    case 'crl_expired':
      return 'a CRL is missing or past its nextUpdate: publish a current CRL for every CA in the chain';
    case 'revocation_unknown':
      return 'the revocation status of the certificate could not be learned (CRL server or OCSP responder unreachable or slow, no CRL for its CA); with revocationFailure closed such callers are refused until it can';
    case 'bad_purpose':
      return 'the certificate may not be used for TLS client authentication (no clientAuth extended key usage)';
    case 'weak_key':
      if (detail === 'UNSPECIFIED') {
        return 'the key or signature of a certificate in the chain is too weak for the configured securityLevel (e.g. RSA below 2048 bits, a SHA-1 signature); Node reports such errors as UNSPECIFIED, so a name-constraint violation looks the same';
      }
      return 'the key or signature of a certificate in the chain is too weak for the configured securityLevel';
    case 'protocol':
      if (detail === 'ERR_SSL_HTTP_REQUEST') return 'plain HTTP was sent to the TLS port: use https://';
      if (detail === 'ERR_SSL_NO_APPLICATION_PROTOCOL') {
        return 'the client offered no application protocol (ALPN) this server speaks: h2 to a server of HTTP/1.1 only (serve HTTP/2 with MtlsFastifyAdapter({ http2: true })), or only http/1.1 to a server of HTTP/2 only (allowHTTP1: false)';
      }
      if (detail === 'ERR_SSL_NO_SUITABLE_KEY_SHARE' || detail === 'ERR_SSL_NO_SHARED_GROUPS') {
        return 'the client offers none of the key-exchange groups the server accepts (groups, MTLS_GROUPS): e.g. a client without the post-quantum X25519MLKEM768 (OpenSSL before 3.5, Node before 24) when only that is accepted';
      }
      if (detail === 'ERR_SSL_WRONG_CURVE') {
        return 'over TLS 1.2 the key-exchange groups (groups, MTLS_GROUPS) also limit the curves of ECDSA certificates: the client certificate\'s curve is not in the list; add it (e.g. secp256r1) or use TLS 1.3';
      }
      return undefined;
    default:
      if (detail && /_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|DECRYPT_ERROR)$/.test(detail)) {
        return 'the client ended the handshake: it does not accept our certificate (give it the CA that issued ours)';
      }
      return undefined;
  }
}
