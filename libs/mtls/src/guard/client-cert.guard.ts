import { CanActivate, ExecutionContext, Injectable, Logger, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PolicyMode } from '../config/mtls-options.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import type { EndpointVerdict } from '../identity/endpoint-identification';
import { peerCertificateState, type PeerCertificateState } from '../identity/peer-identity';
import { logLine } from '../logging/log-line';
import { logSafe } from '../logging/log-safe';
import { peerAddressOf, peerHostOf } from '../logging/peer-address';
import { peerGroupOf } from '../logging/peer-group';
import { RepeatSummarizer, type ReportScope } from '../logging/repeat-summarizer';
import { MtlsMaterialSource } from '../material/material-source';
import type { ClientCertDecision } from '../policy/client-cert-decision';
import { anyVerifiedClient, denyEveryClient } from '../policy/client-cert-policies';
import type { ClientCertPolicy } from '../policy/client-cert-policy';
import { decidePolicy } from '../policy/policy-explanation';
import { MtlsEvents } from '../telemetry/mtls-events';
import type { GuardDecisionCount } from '../telemetry/mtls-counts';
import { callKindOf, socketOf } from './call-context';
import { CLIENT_CERT_MODE, CLIENT_CERT_POLICY, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './client-cert.constants';
import { policyRefusalWords, type GuardProblem, type GuardVerdict } from './guard-verdict';
import { MtlsIdentitySource, tlsCallerOf, type CallerState } from './identity-source';
import { alreadyJudgedBy, rememberJudgedCaller } from './judged-caller';

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

  /** Route metadata does not change once the application runs: each route's `@RequireClientCert` and `@ClientCertMode` are looked up once. */
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
    if (caller.status !== 'verified') return this.refuse(context, unverifiedVerdict(caller, mode));
    this.events?.sawVerifiedCaller(caller.identity);
    const problem = this.judge(context, caller);
    return isPromiseLike(problem) ? Promise.resolve(problem).then((p) => this.conclude(context, mode, caller, p)) : this.conclude(context, mode, caller, problem);
  }

  /** Refuses (or, in audit mode, records and lets in) a verified caller that did not pass; remembers the admitted identity for @ClientCert(). */
  private conclude(context: ExecutionContext, mode: PolicyMode, caller: VerifiedCaller, problem: GuardProblem | undefined): true {
    const { identity } = caller;
    if (problem) {
      const verdict: GuardVerdict = {
        outcome: mode === 'audit' ? 'audited' : 'refused',
        mode,
        reason: problem.reason,
        decision: problem.decision,
        why: `${problem.why}${proxyNote(caller.proxy)}`,
        subject: identity.subject,
        via: caller.via,
        status: 403,
        message: SUBJECT_NOT_RECOGNIZED_MESSAGE,
      };
      if (verdict.outcome === 'refused') this.refuse(context, verdict);
      this.record(context, verdict);
    }
    rememberJudgedCaller(context, identity, this.constructor);
    if (!problem && this.events) {
      // An admitted caller is counted by its route's counter (one increment), and told only to whoever listens.
      this.allowedCounter(context, this.events).count++;
      if (this.events.guardDecisions.observed) this.record(context, { outcome: 'allowed', mode, via: caller.via, subject: identity.subject });
    }
    return true;
  }

  /**
   * Everything a verified caller must pass besides having a certificate:
   * endpoint identification of the TLS peer (when on), then the route's
   * policy. Returns why it does not pass, or undefined (with a promise when
   * endpoint identification has to look an address up).
   */
  protected judge(context: ExecutionContext, caller: Extract<CallerState, { status: 'verified' }>): GuardProblem | undefined | Promise<GuardProblem | undefined> {
    const { identity } = caller;
    const tlsPeer = caller.proxy ?? identity;
    const endpoint = this.identities?.checkEndpoint(socketOf(context), tlsPeer);
    if (isPromiseLike(endpoint)) return Promise.resolve(endpoint).then((verdict) => this.judgeAfterEndpoint(context, identity, tlsPeer, verdict));
    return this.judgeAfterEndpoint(context, identity, tlsPeer, endpoint);
  }

  /** The rest of `judge` once endpoint identification has answered: its verdict, then the route's policy. */
  private judgeAfterEndpoint(context: ExecutionContext, identity: ClientIdentity, tlsPeer: ClientIdentity, endpoint: EndpointVerdict | undefined): GuardProblem | undefined {
    if (endpoint && !endpoint.ok) return { reason: 'endpoint-identification', why: `${endpoint.reason} (subject ${logSafe(tlsPeer.subject)})` };
    const decision = this.decide(context, identity);
    return decision.allowed ? undefined : { reason: 'policy', decision, why: policyRefusalWords(decision, identity) };
  }

  /**
   * What the route's policy decides about a verified identity: the shared
   * `{ allowed: true }`, or a refusal naming the rule, what it wanted and
   * what the certificate has (logged, counted, never told the caller). A
   * policy function that returns a boolean is wrapped (`custom policy
   * <name> refused it`); one that throws refuses.
   */
  protected decide(context: ExecutionContext, identity: ClientIdentity): ClientCertDecision {
    return decidePolicy(this.getPolicy(context), identity);
  }

  /**
   * The policy of the route: handler metadata wins over controller metadata;
   * without either, the module's `defaultPolicy` (any verified certificate,
   * or nobody).
   */
  protected getPolicy(context: ExecutionContext): ClientCertPolicy {
    return this.metadataOf(context).policy ?? this.defaultPolicy();
  }

  /** What routes without `@RequireClientCert` admit: `defaultPolicy` of the module. */
  protected defaultPolicy(): ClientCertPolicy {
    return this.source?.current().options.defaultPolicy === 'deny' ? denyEveryClient : anyVerifiedClient;
  }

  /** `enforce` or `audit`: `@ClientCertMode` on the handler, else on the controller, else the module's `policyMode`. */
  protected getMode(context: ExecutionContext): PolicyMode {
    return this.metadataOf(context).mode ?? this.source?.current().options.policyMode ?? 'enforce';
  }

  /** The counter of admitted calls on the route of `context` (kept with the route's metadata: found without building a label). */
  private allowedCounter(context: ExecutionContext, events: MtlsEvents): GuardDecisionCount {
    const metadata = this.metadataOf(context);
    const route = callKindOf(context).route(context);
    const counters = (metadata.allowed ??= new Map<string, GuardDecisionCount>());
    let counter = counters.get(route);
    if (!counter) counters.set(route, (counter = events.counts.allowedOn(route)));
    return counter;
  }

  /** The route's `@RequireClientCert` and `@ClientCertMode` (handler over controller), read through the Reflector once per route. */
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
    return direct.status === 'verified' ? tlsCallerOf(direct) : direct;
  }

  /**
   * What the caller presented on the TLS connection of this request or
   * message (verified identity, unverified, unreadable or none).
   */
  protected getPeer(context: ExecutionContext): PeerCertificateState {
    return peerCertificateState(socketOf(context), this.source?.current().options.dnFormat);
  }

  /**
   * Records the refusal (see `record`) and throws it as the call's
   * transport refuses: a 403 (400 for a malformed forwarded header) over
   * HTTP, an RpcException over RPC. The caller learns only
   * `verdict.message`, never the reason.
   */
  protected refuse(context: ExecutionContext, verdict: GuardVerdict): never {
    this.record(context, verdict);
    throw callKindOf(context).refusal(verdict.status ?? 403, verdict.message ?? SUBJECT_NOT_RECOGNIZED_MESSAGE);
  }

  /**
   * The one path of every decision: tells MtlsEvents (metrics, audit: the
   * route as declared, the reason code and rule, the reason in words), and
   * for a refusal or an audited caller writes the log line: what was
   * called, by whom, why (peer-supplied text escaped and cut; repeats from
   * one peer summarised), in JSON logs with `event`, `reason`, `rule`,
   * `route`, `peer`, `subject`, `via` fields.
   */
  protected record(context: ExecutionContext, verdict: GuardVerdict): void {
    const kind = callKindOf(context);
    const peer = peerAddressOf(kind.socket(context));
    const route = kind.route(context);
    const { outcome, mode, reason, decision, why, subject, via } = verdict;
    if (outcome !== 'allowed') this.events?.counts.refused(route, outcome, reason ?? 'policy', decision?.rule);
    this.events?.guardDecisions.next({ route, peer, outcome, mode, reason, rule: decision?.rule, via, subject, detail: why });
    if (outcome === 'allowed') return;
    const audited = outcome === 'audited';
    const what = logSafe(kind.describe(context), 200);
    const host = peerHostOf(peer);
    const words = logSafe(why ?? reason ?? 'refused', 800);
    const head = audited ? 'audit mode: would refuse' : kind.refused(verdict.status ?? 403);
    const tail = audited ? '; let in' : '';
    // A malformed forwarded header names the trusted proxy that sent it.
    const sender = verdict.status === 400 && verdict.proxy ? ` (trusted proxy ${logSafe(verdict.proxy.subject)})` : '';
    const fields = {
      event: audited ? 'guard_audited' : 'guard_refused',
      reason: reason ?? 'policy',
      rule: decision?.rule,
      route: logSafe(route, 200),
      peer,
      subject: subject !== undefined ? logSafe(subject) : undefined,
      via,
    };
    (audited ? this.auditLines : this.refusalLines).report(
      [host, what, why].join('\u0000'),
      () => `${head} ${what} from ${peer}${sender}: ${words}${tail}`,
      (repeats, seconds) => `${head} ${what} from ${host}: ${words}: and ${repeats} more in the last ${seconds} s${tail}`,
      fields,
      { ...fields, peer: host },
      fairnessScope(peer, fields.subject),
    );
  }
}

/** A caller with a verified certificate (its own, or one a trusted proxy forwarded). */
type VerifiedCaller = Extract<CallerState, { status: 'verified' }>;

/** The refusal of a caller without a verified certificate (in every mode): none, unverified, unreadable, or a malformed forwarded header. */
function unverifiedVerdict(caller: Exclude<CallerState, VerifiedCaller>, mode: PolicyMode): GuardVerdict {
  switch (caller.status) {
    case 'none':
      return { outcome: 'refused', mode, reason: 'no-certificate', why: 'no client certificate', status: 403, message: NO_CERTIFICATE_MESSAGE };
    case 'unverified': {
      // Nothing of an unverified certificate is parsed: OpenSSL's rendering of its subject, cut short, for the log.
      const what = caller.via === 'proxy' ? caller.reason : `certificate not verified (${caller.reason})`;
      return {
        outcome: 'refused',
        mode,
        reason: 'unverified',
        why: `${what}, presented subject ${logSafe(caller.subject)}${proxyNote(caller.proxy)}`,
        via: caller.via ?? 'tls',
        status: 403,
        message: NO_CERTIFICATE_MESSAGE,
      };
    }
    case 'unreadable':
      return {
        outcome: 'refused',
        mode,
        reason: 'unreadable',
        why: `subject could not be parsed: ${logSafe(caller.reason)} (presented subject ${logSafe(caller.subject)})${proxyNote(caller.proxy)}`,
        via: caller.via ?? 'tls',
        status: 403,
        message: SUBJECT_NOT_RECOGNIZED_MESSAGE,
      };
    case 'malformed':
      // What is wrong with the header is the answer too: it is the proxy's, and it says nothing of the policy.
      return { outcome: 'refused', mode, reason: 'malformed-forwarded-header', why: caller.reason, subject: caller.proxy.subject, via: 'proxy', proxy: caller.proxy, status: 400, message: caller.reason };
  }
}

/** True for a promise (or any thenable): what may wait, as opposed to an answer at hand. */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === 'function';
}

/** A route's own metadata: undefined where neither handler nor controller says. */
interface RouteMetadata {
  policy?: ClientCertPolicy;
  mode?: PolicyMode;
  /** The counters of admitted calls, by route label (one, unless the handler serves several paths). */
  allowed?: Map<string, GuardDecisionCount>;
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
