import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { tlsConnectionOf, type TlsConnectionInfo } from '../telemetry/tls-connection';
import { socketOf } from './call-context';

/**
 * How the request's or message's TLS connection was set up (or one field of
 * it): `@TlsConnection() tls: TlsConnectionInfo`,
 * `@TlsConnection('keyExchangeGroup') group: string` (`X25519MLKEM768` when
 * the keys were agreed with hybrid post-quantum key exchange). Read once per
 * connection. Behind a trusted proxy it describes the proxy's connection.
 * Undefined when the transport is not TLS.
 */
export const TlsConnection = createParamDecorator((field: keyof TlsConnectionInfo | undefined, context: ExecutionContext) => {
  const info = tlsConnectionOf(socketOf(context));
  return field ? info?.[field] : info;
});
