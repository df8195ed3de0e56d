/**
 * Every `code` nest-mtls gives the errors it throws on purpose, with what it
 * means in one line: the table docs/reference/errors.md is generated from
 * (`npm run docs:reference`). A new code goes here; the reference test fails
 * on an `ERR_MTLS_*` literal in the library that is not in this table.
 */
export const MTLS_ERROR_CODES = {
  ERR_MTLS_CONFIG:
    'MtlsConfigError: a setting or file stops the service before it listens; the one-line message names the setting (and its MTLS_* variable when it came from the environment) and what is wrong.',
  ERR_MTLS_CANARY:
    'MtlsError: the loopback canary (a real handshake with the new material on 127.0.0.1) could not run at all, so the material was not judged; material that fails the handshake is ERR_MTLS_CONFIG instead.',
  ERR_MTLS_MATERIAL:
    'MtlsError: a TLS material snapshot given to nest-mtls was not made by nest-mtls (MtlsMaterialSource.create or MtlsModule), so it cannot be served.',
  ERR_MTLS_DN_FORMAT:
    'DnFormatError: a certificate name cannot be printed exactly as OpenSSL prints it; the certificate is refused (fails closed), never matched on an approximate name.',
  ERR_MTLS_CRL_FORMAT:
    'CrlFormatError: a CRL cannot be read or applied (bad encoding, unknown critical extension); reported inside the ERR_MTLS_CONFIG or the log line that names the file or URL.',
  ERR_MTLS_CLIENT_TLS:
    'MtlsClientError kind tls: the handshake of an outbound call failed (the server refused our certificate, or we refused theirs, including a server that is not the required identity).',
  ERR_MTLS_CLIENT_UNREACHABLE: 'MtlsClientError kind unreachable: nobody listens at the called address (connection refused, unknown host).',
  ERR_MTLS_CLIENT_TIMEOUT: 'MtlsClientError kind timeout: the called server did not answer within the timeout.',
  ERR_MTLS_CLIENT_STATUS: 'MtlsClientError kind status: the called server answered with a non-2xx status (e.g. 403 from its guard).',
  ERR_MTLS_CLIENT_PROTOCOL:
    'MtlsClientError kind protocol: the answer could not be read (not HTTP, headers or body too large, not JSON where JSON was asked for), or the URL cannot be called.',
  ERR_MTLS_SERVER_IDENTITY:
    "ServerIdentityMismatchError: the server's certificate matched the hostname but is not the identity the call requires (serverIdentity); the cause of an ERR_MTLS_CLIENT_TLS.",
} as const;

/** The stable `code` of an error nest-mtls throws on purpose. */
export type MtlsErrorCode = keyof typeof MTLS_ERROR_CODES;
