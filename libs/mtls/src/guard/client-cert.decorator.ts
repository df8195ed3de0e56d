import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { judgedCaller } from './judged-caller';

/**
 * The caller's identity that ClientCertGuard judged and admitted for this
 * request or message (or one of its fields): `@ClientCert() caller: ClientIdentity`,
 * `@ClientCert('subject') dn: string`. The same object the policy saw, also
 * when a subclassed guard takes the identity from elsewhere. Undefined on a
 * route no ClientCertGuard protects. Works on HTTP handlers (Express, Fastify)
 * and on `@MessagePattern` handlers.
 */
export const ClientCert = createParamDecorator((field: keyof ClientIdentity | undefined, context: ExecutionContext) => {
  const identity = judgedCaller(context);
  return field ? identity?.[field] : identity;
});
