import { MtlsClientError } from './mtls-client.error';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const SERVER_CERT = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|DEPTH_ZERO/;

/**
 * Turns a socket/TLS error of an outbound call into an MtlsClientError with a clear message.
 * `freshConnection`: the request ran on a new connection (not a kept-alive one), so a reset
 * before any answer means the TLS handshake was refused.
 */
export function classifyClientError(err: Error & { code?: string }, url: string, handshakeDone: boolean, freshConnection: boolean): MtlsClientError {
  const code = err.code ?? '';
  if (err instanceof MtlsClientError) return err;
  if (UNREACHABLE.has(code)) return new MtlsClientError({ kind: 'unreachable', url, message: `upstream ${url} is unreachable (${code})`, cause: err });
  if (SERVER_CERT.test(code)) {
    return new MtlsClientError({ kind: 'tls', url, message: `refused the certificate of ${url}: ${code}`, cause: err });
  }
  if (code.startsWith('ERR_SSL') || /alert|handshake/i.test(err.message)) {
    return new MtlsClientError({ kind: 'tls', url, message: `${url} refused the TLS handshake (our certificate was not accepted): ${code || err.message}`, cause: err });
  }
  if ((code === 'ECONNRESET' || err.message === 'socket hang up') && freshConnection) {
    // With TLS 1.3 our side of the handshake ends before the server has checked our
    // certificate; a server that refuses it then just closes the new connection.
    return new MtlsClientError({
      kind: 'tls',
      url,
      message: `${url} closed the new connection ${handshakeDone ? 'right after' : 'during'} the TLS handshake: it did not accept our certificate (${code || err.message})`,
      cause: err,
    });
  }
  return new MtlsClientError({ kind: 'unreachable', url, message: `call to ${url} failed: ${code || err.message}`, cause: err });
}
