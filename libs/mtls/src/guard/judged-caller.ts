import type { ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { callKindOf, rawRequestOf, type CallKind } from './call-context';

/** What a guard left for one request or message: the identity it admitted, and which guard class did. */
interface Judged {
  readonly identity: ClientIdentity;
  readonly by?: object;
}

/**
 * Where the guard leaves the identity it admitted (and which guard class
 * admitted it), by the request (HTTP) or message context (RPC) it was judged
 * for; an entry lives exactly as long as that object. A WeakMap, not a
 * property: adding a property to Express's request (a Node IncomingMessage
 * whose prototype Express replaced) costs several microseconds.
 */
const judged = new WeakMap<object, Judged>();

/** The entry of an identity admitted by a guard class, made once per identity (not per request). */
const entries = new WeakMap<ClientIdentity, Judged>();

function entryOf(identity: ClientIdentity, by: object | undefined): Judged {
  let entry = entries.get(identity);
  if (!entry || entry.by !== by) entries.set(identity, (entry = { identity, by }));
  return entry;
}

/**
 * An HTTP/1.1 connection answers its requests one after another, so the
 * judgement of its latest request is kept on the connection, in a holder
 * made once per connection and rewritten per request (a WeakMap entry per
 * request costs more than the rest of the guard). A request pipelined
 * behind one not answered yet moves that one's judgement to the WeakMap
 * first.
 */
const HOLDER = Symbol('nest-mtls:judged-caller');

interface Holder {
  carrier: object | undefined;
  entry: Judged | undefined;
}

type HttpSocket = Socket & { [HOLDER]?: Holder; _httpMessage?: ServerResponse | null };

/** The HTTP/1.1 connection of an HTTP request and its raw request (Express's request is Node's; Fastify's has `raw`: see rawRequestOf). */
function sequentialSocketOf(kind: CallKind, carrier: object): { socket: HttpSocket; raw: IncomingMessage } | undefined {
  if (kind.name !== 'http') return undefined;
  const raw = rawRequestOf(carrier) as IncomingMessage | undefined;
  if (raw?.httpVersionMajor !== 1) return undefined;
  const socket = raw.socket as HttpSocket | null | undefined;
  return socket ? { socket, raw } : undefined;
}

/** Remembers the identity the guard admitted for this request or message (and which guard class did). */
export function rememberJudgedCaller(context: ExecutionContext, identity: ClientIdentity, guard?: object): void {
  const kind = callKindOf(context);
  const carrier = kind.carrier(context);
  if (!carrier) return;
  const entry = entryOf(identity, guard);
  const connection = sequentialSocketOf(kind, carrier);
  if (!connection) {
    judged.set(carrier, entry);
    return;
  }
  const { socket, raw } = connection;
  let holder = socket[HOLDER];
  if (!holder) socket[HOLDER] = holder = { carrier: undefined, entry: undefined };
  else if (holder.carrier !== undefined && holder.carrier !== carrier && socket._httpMessage?.req !== raw && holder.entry) {
    // An earlier request on this connection is still being answered (pipelining): its judgement moves aside.
    judged.set(holder.carrier, holder.entry);
  }
  holder.carrier = carrier;
  holder.entry = entry;
}

function judgementOf(context: ExecutionContext): Judged | undefined {
  const kind = callKindOf(context);
  const carrier = kind.carrier(context);
  if (!carrier) return undefined;
  const holder = sequentialSocketOf(kind, carrier)?.socket[HOLDER];
  if (holder && holder.carrier === carrier) return holder.entry;
  return judged.get(carrier);
}

/**
 * True when a guard of class `guard` already admitted this request or
 * message (a global guard and @RequireClientCert's both run): the second
 * one does not judge, log or count it again.
 */
export function alreadyJudgedBy(context: ExecutionContext, guard: object): boolean {
  return judgementOf(context)?.by === guard;
}

/** The identity the guard admitted for this request or message; undefined when no ClientCertGuard ran. */
export function judgedCaller(context: ExecutionContext): ClientIdentity | undefined {
  return judgementOf(context)?.identity;
}
