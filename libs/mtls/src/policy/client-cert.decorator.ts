import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { peerIdentity } from '../identity/peer-identity';

/**
 * The caller's verified identity (or one of its fields), built once per TLS
 * connection: `@ClientCert() caller: ClientIdentity`, `@ClientCert('subject') dn: string`.
 * Undefined when the connection has no verified client certificate.
 */
export const ClientCert = createParamDecorator((field: keyof ClientIdentity | undefined, context: ExecutionContext) => {
  const identity = peerIdentity(context.switchToHttp().getRequest<Request>().socket as TLSSocket);
  return field ? identity?.[field] : identity;
});
