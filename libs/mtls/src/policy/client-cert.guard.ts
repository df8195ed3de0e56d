import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { peerCertificateIdentity, peerIdentity } from '../identity/peer-identity';
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

  constructor(protected readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const policy = this.getPolicy(context);
    const identity = this.getIdentity(request);
    if (!identity) {
      const presented = this.getUnverifiedSubject(request);
      this.refuse(request, NO_CERTIFICATE_MESSAGE, presented ? `certificate not verified (subject ${presented})` : 'no client certificate');
    }
    let allowed = false;
    try {
      allowed = policy(identity);
    } catch (err) {
      this.logger.error(`policy threw for ${identity.subject}: ${(err as Error).message}`);
    }
    if (!allowed) this.refuse(request, SUBJECT_NOT_RECOGNIZED_MESSAGE, `policy refused subject ${identity.subject}`);
    return true;
  }

  /** The policy of the route: handler metadata wins over controller metadata. */
  protected getPolicy(context: ExecutionContext): ClientCertPolicy {
    return (
      this.reflector.getAllAndOverride<ClientCertPolicy | undefined>(CLIENT_CERT_POLICY, [context.getHandler(), context.getClass()]) ??
      anyVerifiedClient
    );
  }

  /** The verified identity of the caller; override to take it from elsewhere (e.g. a trusted proxy). */
  protected getIdentity(request: Request): ClientIdentity | undefined {
    return peerIdentity(request.socket as TLSSocket);
  }

  /** For the log only: the subject of a presented but unverified certificate. */
  protected getUnverifiedSubject(request: Request): string | undefined {
    return peerCertificateIdentity(request.socket as TLSSocket)?.subject;
  }

  protected refuse(request: Request, message: string, reason: string): never {
    this.logger.warn(`403 ${request.method} ${request.originalUrl ?? request.url} from ${request.socket?.remoteAddress}: ${reason}`);
    throw new ClientCertForbiddenException(message);
  }
}
