import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import { peerCertificateState, type PeerCertificateState } from '../identity/peer-identity';
import { logSafe } from '../logging/log-safe';
import { RepeatSummarizer } from '../logging/repeat-summarizer';
import { peerAddressOf, peerHostOf } from '../server/peer-address';
import { anyVerifiedClient } from './client-cert-policies';
import type { ClientCertPolicy } from './client-cert-policy';
import { ClientCertForbiddenException } from './client-cert-forbidden.exception';
import { CLIENT_CERT_POLICY, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './client-cert.constants';

/**
 * The ContainerRequestFilter counterpart: lets a request in only when its TLS
 * connection carries a verified client certificate that the route's policy
 * (@RequireClientCert on the handler, else on the controller) accepts.
 * Without a policy, any verified certificate passes. Refusals are 403 JSON;
 * the reason and the caller's DN go to the log, never to the caller.
 * Methods are protected so applications can extend the guard.
 */
@Injectable()
export class ClientCertGuard implements CanActivate {
  protected readonly logger = new Logger(ClientCertGuard.name);
  /** A flood of refused requests from one peer is one line, then a count per 10 s. */
  protected readonly refusalLines = new RepeatSummarizer((line) => this.logger.warn(line));

  constructor(protected readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const peer = this.getPeer(request);
    switch (peer.status) {
      case 'none':
        return this.refuse(request, NO_CERTIFICATE_MESSAGE, 'no client certificate');
      case 'unverified':
        // Nothing of an unverified certificate is parsed: OpenSSL's rendering of its subject, cut short, for the log.
        return this.refuse(request, NO_CERTIFICATE_MESSAGE, `certificate not verified (${peer.reason}), presented subject ${logSafe(peer.subject)}`);
      case 'unreadable':
        return this.refuse(request, SUBJECT_NOT_RECOGNIZED_MESSAGE, `subject could not be parsed: ${logSafe(peer.reason)} (presented subject ${logSafe(peer.subject)})`);
    }
    const { identity } = peer;
    let allowed = false;
    try {
      allowed = this.getPolicy(context)(identity);
    } catch (err) {
      this.logger.error(`policy threw for ${logSafe(identity.subject)}: ${logSafe((err as Error).message)}`);
    }
    if (!allowed) this.refuse(request, SUBJECT_NOT_RECOGNIZED_MESSAGE, `policy refused subject ${logSafe(identity.subject)}`);
    return true;
  }

  /** The policy of the route: handler metadata wins over controller metadata. */
  protected getPolicy(context: ExecutionContext): ClientCertPolicy {
    return (
      this.reflector.getAllAndOverride<ClientCertPolicy | undefined>(CLIENT_CERT_POLICY, [context.getHandler(), context.getClass()]) ??
      anyVerifiedClient
    );
  }

  /**
   * What the caller presented on this request's TLS connection (verified
   * identity, unverified, unreadable or none); override to take it from
   * elsewhere (e.g. a trusted proxy).
   */
  protected getPeer(request: Request): PeerCertificateState {
    return peerCertificateState(request.socket as TLSSocket);
  }

  /**
   * Logs why (peer-supplied text escaped and cut; repeats from one peer
   * summarised) and throws the 403; the caller learns only `message`.
   */
  protected refuse(request: Request, message: string, reason: string): never {
    const peer = peerAddressOf(request.socket);
    const url = logSafe(request.originalUrl ?? request.url, 200);
    const key = [peerHostOf(peer), request.method, url, reason].join('\u0000');
    this.refusalLines.report(
      key,
      () => `403 ${logSafe(request.method, 16)} ${url} from ${peer}: ${logSafe(reason, 800)}`,
      (repeats, seconds) => `403 ${logSafe(request.method, 16)} ${url} from ${peerHostOf(peer)}: ${logSafe(reason, 800)}: and ${repeats} more in the last ${seconds} s`,
    );
    throw new ClientCertForbiddenException(message);
  }
}
