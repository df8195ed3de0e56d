import { maxHeaderSize } from 'node:http';
import type { SecurityLevel } from '../config/mtls-options.interface';
import { curveName, SECURITY_LEVEL_MINIMUMS } from '../config/security-level';
import { MtlsClientError } from './mtls-client.error';
import { ServerIdentityMismatchError } from './server-identity';

/** What classifyClientError needs to know about the call that failed. */
export interface FailedCall {
  url: string;
  /** Our side of the TLS handshake finished. */
  handshakeDone: boolean;
  /** The request ran on a new connection (not a kept-alive one), so a reset before any answer means the handshake was refused. */
  freshConnection: boolean;
  /** The protocol versions we offer (supportedProtocols), for version mismatches. */
  supportedProtocols: readonly string[];
  /** Our OpenSSL security level, for keys it refuses. */
  securityLevel: SecurityLevel;
}

type LowLevelError = Error & { code?: string };

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Why we refused the server's certificate, by Node's verification code. */
const SERVER_CERT_REASONS: Readonly<Record<string, string>> = {
  INVALID_PURPOSE: "the server's certificate may not be used for TLS servers (no serverAuth extended key usage)",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  CERT_REVOKED: "the server's certificate is revoked",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed and not in trustStorePath",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's chain ends at a CA that is not in trustStorePath",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate does not chain to a CA in trustStorePath (or the server does not send its intermediate)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate does not chain to a CA in trustStorePath (or the server does not send its intermediate)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name the host of the URL",
};
const SERVER_CERT = /CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH|DEPTH_ZERO/;

/** OpenSSL's words for "no protocol version in common", whichever side noticed. */
const VERSION_MISMATCH = /alert protocol version|unsupported protocol|no protocols available|version too low|version too high/i;
/** A peer that does not speak TLS at all (plain HTTP on the port, say). */
const NOT_TLS = /wrong version number|packet length too long|http request/i;
/** Alerts a server sends when it refuses the client certificate. */
const OUR_CERT_REFUSED = /alert (unknown ca|bad certificate|certificate required|certificate expired|certificate revoked|certificate unknown|unsupported certificate|access denied)|peer did not return a certificate/i;
/** Alerts about parameters, not certificates: no cipher suite or group in common, or below the other side's security level. */
const NO_AGREEMENT = /alert handshake failure|alert insufficient security|no shared cipher|no suitable signature algorithm/i;

/**
 * Turns a socket, TLS or HTTP parser error of an outbound call into an
 * MtlsClientError whose kind and message say what happened and what to
 * check: our certificate refused, theirs refused (and why), no TLS version in
 * common, an answer that is not HTTP, nobody listening.
 */
export function classifyClientError(err: LowLevelError, call: FailedCall): MtlsClientError {
  if (err instanceof MtlsClientError) return err;
  const { url } = call;
  if (err instanceof ServerIdentityMismatchError) {
    return new MtlsClientError({
      kind: 'tls',
      url,
      message: `refused the certificate of ${url}: the server is not who the call requires (serverIdentity): expected ${err.expected}, found ${err.found}`,
      cause: err,
      serverIdentity: { expected: err.expected, found: err.found },
    });
  }
  const code = err.code ?? '';
  const detail = code && code !== 'EPROTO' ? code : opensslReason(err.message);
  const tls = (message: string) => new MtlsClientError({ kind: 'tls', url, message, cause: err });

  if (UNREACHABLE.has(code)) return new MtlsClientError({ kind: 'unreachable', url, message: `upstream ${url} is unreachable (${code})`, cause: err });
  if (code.startsWith('HPE_')) return new MtlsClientError({ kind: 'protocol', url, message: unreadableAnswer(url, code, err.message), cause: err });

  if (code === 'UNSPECIFIED') {
    // Node names only the older X509 verification errors: a key below our security level
    // (EE_KEY_TOO_SMALL, CA_KEY_TOO_SMALL), a weak signature digest or a name-constraints
    // violation all arrive as UNSPECIFIED.
    const min = SECURITY_LEVEL_MINIMUMS[call.securityLevel];
    return tls(
      `refused the certificate of ${url}: the server's key is weaker than securityLevel ${call.securityLevel} allows (RSA below ${min.rsa} bits, EC below ${curveName(min.ec)}), ` +
        `or its chain breaks a name constraint or uses a weak signature digest; OpenSSL does not tell Node which (${code})`,
    );
  }
  const certReason = SERVER_CERT_REASONS[code];
  if (certReason) return tls(`refused the certificate of ${url}: ${certReason} (${code})`);
  if (SERVER_CERT.test(code)) return tls(`refused the certificate of ${url}: ${code}`);

  // OpenSSL's reason, from the code (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA) or the message (EPROTO ...: tlsv1 alert unknown ca).
  const said = `${code.replace(/_/g, ' ')} ${err.message}`;
  if (VERSION_MISMATCH.test(said)) {
    return tls(
      `no TLS version in common with ${url}: we offer ${call.supportedProtocols.join(', ')} (supportedProtocols) and the server accepts none of them (${detail}); ` +
        'allow the version the server speaks, or upgrade the server',
    );
  }
  if (NOT_TLS.test(said)) return tls(`${url} does not speak TLS (${detail}): is that a plain-HTTP port, or the wrong port?`);
  if (OUR_CERT_REFUSED.test(said)) {
    return tls(`${url} did not accept our certificate (${detail}): check that it trusts the CA that issued ours, and that ours is valid and allowed for clients`);
  }
  if (NO_AGREEMENT.test(said)) {
    return tls(`${url} and we could not agree on a TLS handshake (${detail}): compare supportedCipherSuites and securityLevel with what the server accepts`);
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || /alert|handshake/i.test(err.message)) return tls(`${url} refused the TLS handshake (${detail})`);
  if ((code === 'ECONNRESET' || err.message === 'socket hang up') && call.freshConnection) {
    // With TLS 1.3 our side of the handshake ends before the server has checked our
    // certificate; a server that refuses it then just closes the new connection.
    return tls(
      `${url} closed the new connection ${call.handshakeDone ? 'right after' : 'during'} the TLS handshake: it did not accept our certificate (${code || err.message})`,
    );
  }
  return new MtlsClientError({ kind: 'unreachable', url, message: `call to ${url} failed: ${code || err.message}`, cause: err });
}

/** An answer Node's HTTP parser could not read (the parser's codes are `HPE_*`). */
function unreadableAnswer(url: string, code: string, message: string): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return `the response headers of ${url} are larger than Node's limit of ${maxHeaderSize} bytes (node --max-http-header-size raises it): the answer cannot be read (${code})`;
    case 'HPE_INVALID_STATUS':
      return `${url} did not answer with a valid HTTP status line: is an HTTP server listening there? (${code})`;
    default:
      return `${url} did not answer with HTTP that can be read (${message.replace(/^Parse Error: /, '')}; ${code}): is an HTTP server listening there?`;
  }
}

/** The reason part of an OpenSSL error string (`...:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:...`). */
function opensslReason(message: string): string {
  const match = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return match ? match[1] : message;
}
