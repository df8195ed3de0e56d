import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { peerCertificateState, type PeerCertificateState } from '../identity/peer-identity';
import { describeInvocation, socketOf } from '../identity/socket-of-context';
import { logSafe } from '../logging/log-safe';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { peerAddressOf, peerHostOf } from '../server/peer-address';
import { anyVerifiedClient } from './client-cert-policies';
import type { ClientCertPolicy } from './client-cert-policy';
import { ClientCertForbiddenException } from './client-cert-forbidden.exception';
import { CLIENT_CERT_POLICY, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './client-cert.constants';
import { rememberJudgedCaller } from './judged-caller';

/**
 * The ContainerRequestFilter counterpart: lets a request (or a microservice
 * message) in only when its TLS connection carries a verified client
 * certificate that the route's policy (@RequireClientCert on the handler,
 * else on the controller) accepts. Without a policy, any verified
 * certificate passes. Refusals are 403 JSON over HTTP and an RpcException
 * over RPC, with the article's messages; the reason and the caller's DN go
 * to the log, never to the caller. The admitted identity is what
 * `@ClientCert()` returns. Methods are protected so applications can extend
 * the guard (e.g. `getPeer` to take the caller from elsewhere).
 */
@Injectable()
export class ClientCertGuard implements CanActivate {
  protected readonly logger = new Logger(ClientCertGuard.name);
  /** A flood of refused requests from one peer is one line, then a count per 10 s. */
  protected readonly refusalLines = new RepeatSummarizer((line) => this.logger.warn(line));

  /** Route metadata does not change once the application runs: each route's policy is looked up once. */
  private readonly policies = new WeakMap<object, WeakMap<object, ClientCertPolicy>>();

  constructor(protected readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const peer = this.getPeer(context);
    switch (peer.status) {
      case 'none':
        return this.refuse(context, NO_CERTIFICATE_MESSAGE, 'no client certificate');
      case 'unverified':
        // Nothing of an unverified certificate is parsed: OpenSSL's rendering of its subject, cut short, for the log.
        return this.refuse(context, NO_CERTIFICATE_MESSAGE, `certificate not verified (${peer.reason}), presented subject ${logSafe(peer.subject)}`);
      case 'unreadable':
        return this.refuse(context, SUBJECT_NOT_RECOGNIZED_MESSAGE, `subject could not be parsed: ${logSafe(peer.reason)} (presented subject ${logSafe(peer.subject)})`);
    }
    const { identity } = peer;
    let allowed = false;
    try {
      allowed = this.getPolicy(context)(identity);
    } catch (err) {
      this.logger.error(`policy threw for ${logSafe(identity.subject)}: ${logSafe((err as Error).message)}`);
    }
    if (!allowed) this.refuse(context, SUBJECT_NOT_RECOGNIZED_MESSAGE, `policy refused subject ${logSafe(identity.subject)}`);
    rememberJudgedCaller(context, identity);
    return true;
  }

  /** The policy of the route: handler metadata wins over controller metadata. */
  protected getPolicy(context: ExecutionContext): ClientCertPolicy {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.policies.get(handler);
    let policy = byController?.get(controller);
    if (!policy) {
      policy = this.reflector.getAllAndOverride<ClientCertPolicy | undefined>(CLIENT_CERT_POLICY, [handler, controller]) ?? anyVerifiedClient;
      if (!byController) this.policies.set(handler, (byController = new WeakMap()));
      byController.set(controller, policy);
    }
    return policy;
  }

  /**
   * What the caller presented on the TLS connection of this request or
   * message (verified identity, unverified, unreadable or none); override to
   * take it from elsewhere (e.g. a trusted proxy). `@ClientCert()` returns
   * whatever identity this gave and the policy admitted.
   */
  protected getPeer(context: ExecutionContext): PeerCertificateState {
    return peerCertificateState(socketOf(context));
  }

  /**
   * Logs why (peer-supplied text escaped and cut; repeats from one peer
   * summarised) and throws the refusal; the caller learns only `message`:
   * a 403 over HTTP, an RpcException over RPC.
   */
  protected refuse(context: ExecutionContext, message: string, reason: string): never {
    const peer = peerAddressOf(socketOf(context));
    const what = logSafe(describeInvocation(context), 200);
    this.refusalLines.report(
      [peerHostOf(peer), what, reason].join('\u0000'),
      () => `403 ${what} from ${peer}: ${logSafe(reason, 800)}`,
      (repeats, seconds) => `403 ${what} from ${peerHostOf(peer)}: ${logSafe(reason, 800)}: and ${repeats} more in the last ${seconds} s`,
    );
    if (context.getType<string>() === 'rpc') throw rpcRefusal(message);
    throw new ClientCertForbiddenException(message);
  }
}

/**
 * An RpcException with the article's message, so a ClientProxy caller gets
 * `{ status: 'error', message }`. Loaded here, not at the top: only an RPC
 * context gets here, and then @nestjs/microservices is installed.
 */
function rpcRefusal(message: string): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RpcException } = require('@nestjs/microservices') as typeof import('@nestjs/microservices');
  return new RpcException(message);
}
