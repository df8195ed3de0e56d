import type { ExecutionContext } from '@nestjs/common';
import type { ClientIdentity } from '../identity/client-identity.interface';

/**
 * Where the guard leaves the identity it admitted: a symbol-keyed property of
 * the request (HTTP) or message context (RPC) it was judged for, which lives
 * exactly as long as that object (a property costs a fraction of a WeakMap
 * entry on every request).
 */
const JUDGED = Symbol('nest-mtls:judged-caller');

type Carrier = object & { [JUDGED]?: ClientIdentity };

/** The object that stands for one request or message: the HTTP request, or the RPC context. */
function carrierOf(context: ExecutionContext): Carrier | undefined {
  const type = context.getType<string>();
  const carrier: unknown = type === 'http' ? context.switchToHttp().getRequest() : type === 'rpc' ? context.switchToRpc().getContext() : undefined;
  return typeof carrier === 'object' && carrier !== null ? (carrier as Carrier) : undefined;
}

/** Remembers the identity the guard admitted for this request or message. */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity): void {
  const carrier = carrierOf(context);
  if (carrier) carrier[JUDGED] = identity;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  const carrier = carrierOf(context);
  return carrier?.[JUDGED];
}
