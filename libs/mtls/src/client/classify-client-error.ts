import { MtlsClientError } from './mtls-client.error';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const SERVER_CERT = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|DEPTH_ZERO/;

/** Turns a socket/TLS error of an outbound call into an MtlsClientError with a clear message. */
export function classifyClientError(err: Error & { code?: string }, url: string, handshakeDone: boolean): MtlsClientError {
  const code = err.code ?? '';
  if (err instanceof MtlsClientError) return err;
  if (UNREACHABLE.has(code)) return new MtlsClientError('unreachable', url, `upstream ${url} is unreachable (${code})`, undefined, undefined, code);
  if (SERVER_CERT.test(code)) {
    return new MtlsClientError('tls', url, `refused the certificate of ${url}: ${code}`, undefined, undefined, code);
  }
  if (code.startsWith('ERR_SSL') || /alert|handshake/i.test(err.message)) {
    return new MtlsClientError('tls', url, `${url} refused the TLS handshake (our certificate was not accepted): ${code || err.message}`, undefined, undefined, code);
  }
  if ((code === 'ECONNRESET' || err.message === 'socket hang up') && !handshakeDone) {
    return new MtlsClientError('tls', url, `${url} closed the connection during the TLS handshake (${code || err.message})`, undefined, undefined, code);
  }
  return new MtlsClientError('unreachable', url, `call to ${url} failed: ${code || err.message}`, undefined, undefined, code || undefined);
}
