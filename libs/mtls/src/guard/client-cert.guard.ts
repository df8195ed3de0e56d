import { BadRequestException, CanActivate, ExecutionContext, Injectable, Logger, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PolicyMode } from '../config/mtls-options.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { EndpointVerdict } from '../identity/endpoint-identification';
import { MtlsIdentitySource, type CallerState } from './identity-source';
import { peerCertificateState, type PeerCertificateState } from '../identity/peer-identity';
import { describeInvocation, socketOf } from './socket-of-context';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { peerGroupOf } from '../logging/peer-group';
import { RepeatSummarizer, type ReportScope } from '../logging/repeat-summarizer';
import { MtlsMaterialSource } from '../material/material-source';
import { peerAddressOf, peerHostOf } from '../logging/peer-address';
import { MtlsEvents, type GuardRefusalReason } from '../telemetry/mtls-events';
import { anyVerifiedClient, denyEveryClient } from '../policy/client-cert-policies';
import type { ClientCertPolicy } from '../policy/client-cert-policy';
import { ClientCertForbiddenException } from './client-cert-forbidden.exception';
import { CLIENT_CERT_MODE, CLIENT_CERT_POLICY, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './client-cert.constants';
import { alreadyJudgedBy, rememberJudgedCaller } from './judged-caller';
import { routeOf } from './route-of-context';

/**
 * The ContainerRequestFilter counterpart: lets a request (or a microservice
 * message) in only when its caller has a verified client certificate that
 * the route's policy (@RequireClientCert on the handler, else on the
 * controller, else the module's `defaultPolicy`) accepts.
 *
 * The caller comes from the identity source (`identify`): the TLS peer's own
 * certificate (`getPeer`), or the certificate a trusted proxy forwarded,
 * verified again. With `endpointIdentification: 'HTTPS'` the TLS peer's
 * certificate must also name its address. Refusals are 403 JSON over HTTP
 * and an RpcException over RPC, with the article's messages (a malformed
 * header from the trusted proxy is a 400); the reason and the caller's DN go
 * to the log, never to the caller. In audit mode (`policyMode`, or
 * `@ClientCertMode('audit')`) a caller the policy or endpoint identification
 * would refuse is logged, counted (`outcome: 'audited'`) and let in; a
 * missing or unverified certificate is refused in every mode. The admitted
 * identity is what `@ClientCert()` returns. Methods are protected so
 * applications can extend the guard.
 */
@Injectable()
export class ClientCertGuard implements CanActivate {
  protected readonly logger = new Logger(ClientCertGuard.name);
  /** A flood of refused requests from one peer is one line, then a count per 10 s; one peer (host and subject) cannot crowd out another's lines. */
  private readonly refusalLines = new RepeatSummarizer((line, fields) => logLine(this.logger, 'warn', line, fields));
  /** The same for callers audit mode lets in. */
  private readonly auditLines = new RepeatSummarizer((line, fields) => logLine(this.logger, 'warn', line, fields));

  /** Where callers' identities come from (the TLS peer, or a trusted proxy's header); absent only outside MtlsModule. */
  protected readonly identities?: MtlsIdentitySource;

  /** Route metadata does not change once the application runs: each route's @RequireClientCert and @ClientCertMode are looked up once. */
  private readonly routeMetadata = new WeakMap<object, WeakMap<object, RouteMetadata>>();

  constructor(
    protected readonly reflector: Reflector,
    /** The application's material source, for its options; absent only outside MtlsModule. */
    @Optional() protected readonly source?: MtlsMaterialSource,
    /** The application's identity source; made from `source` when a guard is constructed by hand with the first two only. */
    @Optional() identities?: MtlsIdentitySource,
    /** The application's event streams (metrics, audit): every decision, every verified caller; absent outside MtlsModule. */
    @Optional() protected readonly events?: MtlsEvents,
  ) {
    // A guard made with `new ClientCertGuard(reflector, source)` still honours the proxy and endpoint settings.
    this.identities = identities ?? (source ? new MtlsIdentitySource(source) : undefined);
  }

  /**
   * Admits or refuses the caller. Answers at once when nothing has to wait
   * (the TLS peer's own certificate, endpoint identification off: no
   * promise per request), with a promise otherwise (a forwarded certificate
   * verified again, an address looked up); Nest takes either.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // A global guard and @RequireClientCert's are the same judge with the same metadata: judge (and count) once.
    if (alreadyJudgedBy(context, this.constructor)) return true;
    const mode = this.getMode(context);
    const caller = this.identify(context);
    return isPromiseLike(caller) ? Promise.resolve(caller).then((c) => this.admit(context, mode, c)) : this.admit(context, mode, caller);
  }

  /** Refuses a caller without a verified certificate; judges a verified one. */
  private admit(context: ExecutionContext, mode: PolicyMode, caller: CallerState): boolean | Promise<boolean> {
    const via = caller.status === 'none' ? undefined : caller.status === 'malformed' ? 'proxy' : (caller.via ?? 'tls');
    switch (caller.status) {
      case 'none':
        return this.refuse(context, NO_CERTIFICATE_MESSAGE, 'no client certificate', undefined, { reason: 'no-certificate', mode });
      case 'unverified':
        // Nothing of an unverified certificate is parsed: OpenSSL's rendering of its subject, cut short, for the log.
        return this.refuse(context, NO_CERTIFICATE_MESSAGE, `${caller.via === 'proxy' ? caller.reason : `certificate not verified (${caller.reason})`}, presented subject ${logSafe(caller.subject)}${proxyNote(caller.proxy)}`, undefined, { reason: 'unverified', mode, via });
      case 'unreadable':
        return this.refuse(context, SUBJECT_NOT_RECOGNIZED_MESSAGE, `subject could not be parsed: ${logSafe(caller.reason)} (presented subject ${logSafe(caller.subject)})${proxyNote(caller.proxy)}`, undefined, { reason: 'unreadable', mode, via });
      case 'malformed':
        return this.refuseMalformed(context, caller.reason, caller.proxy, mode);
    }
    this.events?.verifiedCallers.next(caller.identity);
    const problem = this.judge(context, caller);
    return isPromiseLike(problem) ? Promise.resolve(problem).then((p) => this.conclude(context, mode, caller, p)) : this.conclude(context, mode, caller, problem);
  }

  /** Refuses (or, in audit mode, logs and lets in) a verified caller that did not pass; remembers the admitted identity for @ClientCert(). */
  private conclude(context: ExecutionContext, mode: PolicyMode, caller: VerifiedCaller, problem: GuardProblem | undefined): true {
    const { identity } = caller;
    if (problem) {
      if (mode === 'audit') {
        this.audit(context, problem.why, identity, problem.reason, caller.via);
      } else {
        this.refuse(context, SUBJECT_NOT_RECOGNIZED_MESSAGE, `${problem.why}${proxyNote(caller.proxy)}`, identity.subject, { reason: problem.reason, mode, via: caller.via });
      }
    }
    rememberJudgedCaller(context, identity, this.constructor);
    // An admitted caller is told only to whoever listens (metrics): nothing is built for it otherwise.
    if (!problem && this.events?.guardDecisions.observed) this.report(context, { outcome: 'allowed', mode, via: caller.via, subject: identity.subject });
    return true;
  }

  /**
   * Everything a verified caller must pass besides having a certificate:
   * endpoint identification of the TLS peer (when on), then the route's
   * policy. Returns why it does not pass, or undefined (with a promise when
   * endpoint identification has to look an address up). (Its types are
   * written out: the declarations name no type that is not exported.)
   */
  protected judge(
    context: ExecutionContext,
    caller: Extract<CallerState, { status: 'verified' }>,
  ): { reason: GuardRefusalReason; why: string } | undefined | Promise<{ reason: GuardRefusalReason; why: string } | undefined> {
    const { identity } = caller;
    const tlsPeer = caller.proxy ?? identity;
    const endpoint = this.identities?.checkEndpoint(socketOf(context), tlsPeer);
    if (isPromiseLike(endpoint)) return Promise.resolve(endpoint).then((verdict) => this.judgeAfterEndpoint(context, identity, tlsPeer, verdict));
    return this.judgeAfterEndpoint(context, identity, tlsPeer, endpoint);
  }

  /** The rest of `judge` once endpoint identification has answered: its verdict, then the route's policy. */
  private judgeAfterEndpoint(context: ExecutionContext, identity: ClientIdentity, tlsPeer: ClientIdentity, endpoint: EndpointVerdict | undefined): GuardProblem | undefined {
    if (endpoint && !endpoint.ok) return { reason: 'endpoint-identification', why: `${endpoint.reason} (subject ${logSafe(tlsPeer.subject)})` };
    let allowed = false;
    try {
      allowed = this.getPolicy(context)(identity) === true;
    } catch (err) {
      this.logger.error(`policy threw for ${logSafe(identity.subject)}: ${logSafe((err as Error).message)}`);
    }
    return allowed ? undefined : { reason: 'policy', why: `policy refused subject ${logSafe(identity.subject)}` };
  }

  /**
   * The policy of the route: handler metadata wins over controller metadata;
   * without either, the module's `defaultPolicy` (any verified certificate,
   * or nobody).
   */
  protected getPolicy(context: ExecutionContext): ClientCertPolicy {
    return this.metadataOf(context).policy ?? this.defaultPolicy();
  }

  /** What routes without @RequireClientCert admit: `defaultPolicy` of the module. */
  protected defaultPolicy(): ClientCertPolicy {
    return this.source?.current().options.defaultPolicy === 'deny' ? denyEveryClient : anyVerifiedClient;
  }

  /** `enforce` or `audit`: @ClientCertMode on the handler, else on the controller, else the module's `policyMode`. */
  protected getMode(context: ExecutionContext): PolicyMode {
    return this.metadataOf(context).mode ?? this.source?.current().options.policyMode ?? 'enforce';
  }

  /** The route's @RequireClientCert and @ClientCertMode (handler over controller), read through the Reflector once per route. */
  private metadataOf(context: ExecutionContext): RouteMetadata {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.routeMetadata.get(handler);
    let metadata = byController?.get(controller);
    if (!metadata) {
      metadata = {
        policy: this.reflector.getAllAndOverride<ClientCertPolicy | undefined>(CLIENT_CERT_POLICY, [handler, controller]),
        mode: this.reflector.getAllAndOverride<PolicyMode | undefined>(CLIENT_CERT_MODE, [handler, controller]),
      };
      if (!byController) this.routeMetadata.set(handler, (byController = new WeakMap()));
      byController.set(controller, metadata);
    }
    return metadata;
  }

  /**
   * Who the caller is: the TLS peer's certificate (`getPeer`), unless the
   * identity source finds that the peer is the trusted proxy and forwarded a
   * certificate (then that one, verified again). Override to take the
   * caller from elsewhere; `@ClientCert()` returns whatever verified
   * identity this gave and the policy admitted.
   */
  protected identify(context: ExecutionContext): Promise<CallerState> | CallerState {
    const direct = this.getPeer(context);
    if (this.identities) return this.identities.identify(context, direct);
    return direct.status === 'verified' ? { ...direct, via: 'tls' } : direct;
  }

  /**
   * What the caller presented on the TLS connection of this request or
   * message (verified identity, unverified, unreadable or none).
   */
  protected getPeer(context: ExecutionContext): PeerCertificateState {
    return peerCertificateState(socketOf(context), this.source?.current().options.dnFormat);
  }

  /**
   * Logs why (peer-supplied text escaped and cut; repeats from one peer
   * summarised) and throws the refusal; the caller learns only `message`:
   * a 403 over HTTP, an RpcException over RPC.
   */
  protected refuse(
    context: ExecutionContext,
    message: string,
    reason: string,
    subject?: string,
    decision: { reason?: GuardRefusalReason; mode?: PolicyMode; via?: 'tls' | 'proxy' } = {},
  ): never {
    const code = decision.reason ?? 'policy';
    const peer = this.report(context, { outcome: 'refused', subject, reason: code, mode: decision.mode ?? this.getMode(context), via: decision.via });
    const what = logSafe(describeInvocation(context), 200);
    const refused = context.getType<string>() === 'rpc' ? 'refused' : '403'; // an HTTP status only over HTTP
    const fields = guardFields('guard_refused', code, context, peer, subject, decision.via);
    this.refusalLines.report(
      [peerHostOf(peer), what, reason].join('\u0000'),
      () => `${refused} ${what} from ${peer}: ${logSafe(reason, 800)}`,
      (repeats, seconds) => `${refused} ${what} from ${peerHostOf(peer)}: ${logSafe(reason, 800)}: and ${repeats} more in the last ${seconds} s`,
      fields,
      { ...fields, peer: peerHostOf(peer) },
      fairnessScope(peer, fields.subject),
    );
    if (context.getType<string>() === 'rpc') throw rpcRefusal(message);
    throw new ClientCertForbiddenException(message);
  }

  /** A forwarded-certificate header from the trusted proxy that cannot be read: 400, saying what is wrong with it. */
  protected refuseMalformed(context: ExecutionContext, reason: string, proxy: ClientIdentity, mode: PolicyMode): never {
    const peer = this.report(context, { outcome: 'refused', reason: 'malformed-forwarded-header', mode, via: 'proxy', subject: proxy.subject });
    const what = logSafe(describeInvocation(context), 200);
    const fields = guardFields('guard_refused', 'malformed-forwarded-header', context, peer, proxy.subject, 'proxy');
    this.refusalLines.report(
      [peerHostOf(peer), what, reason].join('\u0000'),
      () => `400 ${what} from ${peer} (trusted proxy ${logSafe(proxy.subject)}): ${logSafe(reason, 800)}`,
      (repeats, seconds) => `400 ${what} from ${peerHostOf(peer)}: ${logSafe(reason, 800)}: and ${repeats} more in the last ${seconds} s`,
      fields,
      { ...fields, peer: peerHostOf(peer) },
      fairnessScope(peer, fields.subject),
    );
    throw new BadRequestException({ statusCode: 400, message: reason });
  }

  /** Audit mode: says what would have been refused, counts it, and lets the caller in. */
  protected audit(context: ExecutionContext, why: string, identity: ClientIdentity, reason: GuardRefusalReason, via: 'tls' | 'proxy'): void {
    const peer = this.report(context, { outcome: 'audited', reason, mode: 'audit', via, subject: identity.subject });
    const what = logSafe(describeInvocation(context), 200);
    const fields = guardFields('guard_audited', reason, context, peer, identity.subject, via);
    this.auditLines.report(
      [peerHostOf(peer), what, why].join('\u0000'),
      () => `audit mode: would refuse ${what} from ${peer}: ${logSafe(why, 800)}; let in`,
      (repeats, seconds) => `audit mode: would refuse ${what} from ${peerHostOf(peer)}: ${logSafe(why, 800)}: and ${repeats} more in the last ${seconds} s; let in`,
      fields,
      { ...fields, peer: peerHostOf(peer) },
      fairnessScope(peer, fields.subject),
    );
  }

  /** Tells MtlsEvents about a decision; returns the peer address it named. */
  private report(
    context: ExecutionContext,
    decision: { outcome: 'allowed' | 'refused' | 'audited'; mode: PolicyMode; reason?: GuardRefusalReason; via?: 'tls' | 'proxy'; subject?: string },
  ): string {
    const peer = peerAddressOf(socketOf(context));
    this.events?.guardDecisions.next({ route: routeOf(context), peer, ...decision });
    return peer;
  }
}

/** A caller with a verified certificate (its own, or one a trusted proxy forwarded). */
type VerifiedCaller = Extract<CallerState, { status: 'verified' }>;

/** Why a verified caller does not pass: the reason code and the words for the log. */
interface GuardProblem {
  reason: GuardRefusalReason;
  why: string;
}

/** True for a promise (or any thenable): what may wait, as opposed to an answer at hand. */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === 'function';
}

/** A route's own metadata: undefined where neither handler nor controller says. */
interface RouteMetadata {
  policy?: ClientCertPolicy;
  mode?: PolicyMode;
}

/**
 * The fields of a guard log line for JSON logs: `event`, `reason` (a
 * GuardRefusalReason code), `route` (declared, never the raw URL), `peer`,
 * `subject`, `via`; never the policy.
 */
function guardFields(event: string, reason: string, context: ExecutionContext, peer: string, subject: string | undefined, via: 'tls' | 'proxy' | undefined) {
  return { event, reason, route: logSafe(routeOf(context), 200), peer, subject: subject !== undefined ? logSafe(subject) : undefined, via };
}

/** Whose line it is for the summariser's fairness: the peer host (an IPv6 /64 as one), and the subject (escaped) it presented when there is one. */
function fairnessScope(peer: string, subject: string | undefined): ReportScope {
  const host = peerGroupOf(peerHostOf(peer));
  return { peer: subject === undefined ? host : `${host} (${subject})` };
}

/** `, forwarded by the trusted proxy CN=envoy` for log lines about a forwarded identity. */
function proxyNote(proxy: ClientIdentity | undefined): string {
  return proxy ? `, forwarded by the trusted proxy ${logSafe(proxy.subject)}` : '';
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
