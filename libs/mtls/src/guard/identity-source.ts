import { Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { createHash, type X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { compileTrustedProxy } from '../config/trusted-proxy';
import type { DnFormat, ForwardedCertHeader, ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { revocationLookupOf } from '../revocation/forwarded-revocation';
import { revocationFollowingSource } from '../revocation/revocation-provider';
import { MtlsMaterialSource } from '../material/material-source';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { knownIntermediates, verifyClientChain, type ChainProblem } from '../revocation/verify-client-chain';
import type { ClientCertPolicy } from '../policy/client-cert-policy';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { EndpointIdentification, type EndpointVerdict } from '../identity/endpoint-identification';
import { ForwardedCertificateError } from '../identity/forwarded/forwarded-certificate.error';
import { forwardedHeaderNames, forwardedHeaderText, readForwardedCertificate, type RequestHeaders } from '../identity/forwarded/forwarded-certificate';
import { IdentityCache } from '../identity/identity-cache';
import { identityFromCertificate } from '../identity/identity-from-certificate';
import { peerCertificateState, type PeerCertificateState } from '../identity/peer-identity';
import { callKindOf, socketOf } from './call-context';

/**
 * Who the caller of one request or message is, and where that came from:
 * - the states of {@link PeerCertificateState}, for the TLS peer itself (`via: 'tls'`),
 *   or for a certificate a trusted proxy forwarded (`via: 'proxy'`, with the proxy's identity);
 * - `malformed`: the trusted proxy sent a forwarded-certificate header that cannot be read (answered 400).
 */
export type CallerState =
  | { status: 'none' }
  | { status: 'unverified'; reason: string; subject?: string; via?: 'tls' | 'proxy'; problem?: ChainProblem; proxy?: ClientIdentity }
  | { status: 'unreadable'; reason: string; subject?: string; via?: 'tls' | 'proxy'; proxy?: ClientIdentity }
  | { status: 'verified'; identity: ClientIdentity; via: 'tls' | 'proxy'; proxy?: ClientIdentity }
  | { status: 'malformed'; reason: string; proxy: ClientIdentity };

/** The caller state of a TLS peer's own verified certificate, one per peer state (which is cached per connection): none made per request. */
const tlsCallers = new WeakMap<PeerCertificateState, CallerState>();

/** `{ status: 'verified', identity, via: 'tls' }` for a verified peer state, made once per state. */
export function tlsCallerOf(direct: Extract<PeerCertificateState, { status: 'verified' }>): CallerState {
  let caller = tlsCallers.get(direct);
  if (!caller) tlsCallers.set(direct, (caller = { status: 'verified', identity: direct.identity, via: 'tls' }));
  return caller;
}

/** A forwarded certificate that verified: its identity, until when that holds, for which material. */
interface VerifiedForward {
  identity?: ClientIdentity;
  failure?: { reason: string; problem: ChainProblem | 'unreadable'; subject: string };
  expires: number;
  generation: number;
}

/** A verified forward is judged again after this long at most (CRLs may have changed meanwhile). */
const FORWARD_RECHECK_MS = 60_000;

/**
 * The identity source of ClientCertGuard: the verified certificate of the
 * TLS peer, or, when the peer is the trusted proxy (`trustedProxy`) and the
 * request carries `forwardedCertHeader`, the certificate the proxy forwarded,
 * verified again here against our trust store, its validity and the CRLs.
 * A proxy without the header is judged as itself. Forwarded certificates are
 * verified once and remembered (by a hash of the header, per material
 * generation, at most a minute); the per-request cost of a known caller is
 * one hash. Also judges endpoint identification (`endpointIdentification`).
 */
@Injectable()
export class MtlsIdentitySource {
  private readonly forwards = new IdentityCache<VerifiedForward>(1024);
  private readonly proxyPolicies = new WeakMap<ResolvedMtlsOptions, ClientCertPolicy>();
  /** Endpoint identification with its DNS cache (one per application). */
  private readonly endpoints = new EndpointIdentification();

  constructor(@Optional() private readonly source?: MtlsMaterialSource) {}

  /** The options in force (undefined outside MtlsModule). */
  private options(): ResolvedMtlsOptions | undefined {
    return this.source?.current().options;
  }

  /** The form identities write their DNs in: the module's `dnFormat` (`rfc4514` outside MtlsModule). */
  dnFormat(): DnFormat {
    return this.options()?.dnFormat ?? 'rfc4514';
  }

  /** The trusted proxy's requirement, compiled once per set of options. */
  private proxyPolicy(options: ResolvedMtlsOptions): ClientCertPolicy | undefined {
    if (options.trustedProxy === undefined || options.forwardedCertHeader === undefined) return undefined;
    let policy = this.proxyPolicies.get(options);
    if (!policy) {
      policy = compileTrustedProxy(options.trustedProxy, options.dnFormat);
      this.proxyPolicies.set(options, policy);
    }
    return policy;
  }

  /** True when `identity` (a TLS peer's verified certificate) is the trusted proxy. A policy that throws says no. */
  isTrustedProxy(identity: ClientIdentity): boolean {
    const options = this.options();
    const policy = options && this.proxyPolicy(options);
    if (!policy) return false;
    try {
      return policy(identity) === true;
    } catch {
      return false;
    }
  }

  /** The header names a trusted proxy forwards certificates in (empty when the feature is off). */
  forwardedHeaders(): string[] {
    const header = this.options()?.forwardedCertHeader;
    return header ? forwardedHeaderNames(header) : [];
  }

  /**
   * Removes the forwarded-certificate headers from a request unless its TLS
   * peer is the trusted proxy; returns the names removed (for the log).
   */
  stripUntrusted(headers: Record<string, string | string[] | undefined>, socket: Socket | undefined): string[] {
    const names = this.forwardedHeaders().filter((name) => headers[name] !== undefined);
    if (names.length === 0) return [];
    const peer = peerCertificateState(socket, this.dnFormat());
    if (peer.status === 'verified' && this.isTrustedProxy(peer.identity)) return [];
    for (const name of names) delete headers[name];
    return names;
  }

  /**
   * The caller of this request or message. `direct` is what the TLS peer
   * presented (ClientCertGuard's `getPeer`): it is the answer unless the peer
   * is the trusted proxy and forwarded a certificate. Answers at once unless
   * a forwarded certificate has to be verified (then a promise).
   */
  identify(context: ExecutionContext, direct: PeerCertificateState = peerCertificateState(socketOf(context), this.dnFormat())): CallerState | Promise<CallerState> {
    if (direct.status !== 'verified') return direct.status === 'none' ? direct : { ...direct, via: 'tls' };
    const options = this.options();
    const self = tlsCallerOf(direct);
    if (!options?.forwardedCertHeader) return self;
    const headers = callKindOf(context).headers(context); // where a proxy can forward a certificate: HTTP only
    if (!headers || !this.isTrustedProxy(direct.identity)) return self; // the header of anyone else is ignored (and removed by the filter)
    const raw = forwardedHeaderText(headers, options.forwardedCertHeader);
    if (raw === undefined) return self; // a trusted proxy without the header is judged as itself
    return this.identifyForwarded(headers, raw, options.forwardedCertHeader, direct.identity, self);
  }

  /** The caller a trusted proxy forwarded in `raw` (the header's text): from the cache of the last minute, or verified again. */
  private async identifyForwarded(headers: RequestHeaders, raw: string, header: ForwardedCertHeader, proxy: ClientIdentity, self: CallerState): Promise<CallerState> {
    const snapshot = this.source!.current();
    // A caller verified within the last minute, for this material: one hash, nothing parsed.
    const key = createHash('sha256').update(header).update('\0').update(raw).digest('hex');
    const known = this.forwards.peek(key);
    if (known?.identity && known.generation === snapshot.generation && known.expires > Date.now()) {
      return { status: 'verified', identity: known.identity, via: 'proxy', proxy: proxy };
    }
    let forwarded;
    try {
      forwarded = readForwardedCertificate(headers, header);
    } catch (err) {
      if (err instanceof ForwardedCertificateError) return { status: 'malformed', reason: err.message, proxy: proxy };
      return { status: 'malformed', reason: `the forwarded certificate cannot be read: ${(err as Error).message}`, proxy: proxy };
    }
    if (!forwarded) return self;
    const verdict = await this.judgeForwarded(forwarded.leaf, forwarded.intermediates, snapshot);
    // Only verified ones are kept: a refusal is judged again next time (it may be a clock or CRL matter).
    if (verdict.identity) this.forwards.set(key, verdict);
    else this.forwards.delete(key);
    if (verdict.identity) return { status: 'verified', identity: verdict.identity, via: 'proxy', proxy: proxy };
    const failure = verdict.failure!;
    if (failure.problem === 'unreadable') return { status: 'unreadable', reason: failure.reason, subject: failure.subject, via: 'proxy', proxy: proxy };
    return { status: 'unverified', reason: failure.reason, subject: failure.subject, via: 'proxy', problem: failure.problem, proxy: proxy };
  }

  private async judgeForwarded(leaf: X509Certificate, intermediates: X509Certificate[], snapshot: MtlsMaterialSnapshot): Promise<VerifiedForward> {
    const { material, generation } = snapshot;
    // As the TLS path logs a presented subject (presentedSubject): OpenSSL's rendering, most specific RDN first.
    const subject = leaf.subject.split('\n').reverse().join(',');
    // The application's own revocation checking (CRL files, distribution points, OCSP; it reports its checks), when it has any.
    // With the intermediates we know: the proxy may have forwarded the leaf alone.
    // The application's revocation checks follow its source (none outside MtlsModule: the CRL files of the material still apply).
    const checks = this.source ? revocationFollowingSource(this.source) : undefined;
    const revocation = checks?.active ? revocationLookupOf(checks, leaf, [...intermediates, ...knownIntermediates(material)]) : undefined;
    const verdict = await verifyClientChain(leaf, intermediates, material, { securityLevel: snapshot.options.securityLevel, revocation });
    if (!verdict.verified) return { failure: { reason: `forwarded certificate not verified: ${verdict.reason}`, problem: verdict.problem, subject }, expires: 0, generation };
    let identity: ClientIdentity;
    try {
      identity = identityFromCertificate(leaf, { dnFormat: snapshot.options.dnFormat });
    } catch (err) {
      return { failure: { reason: `forwarded certificate: subject could not be parsed: ${(err as Error).message}`, problem: 'unreadable', subject }, expires: 0, generation };
    }
    return { identity, expires: Math.min(verdict.validUntil.getTime(), Date.now() + FORWARD_RECHECK_MS), generation };
  }

  /**
   * Endpoint identification of a TLS peer, when `endpointIdentification` is
   * on: its certificate must name the address it connects from. Undefined
   * when the setting is off or there is no socket (nothing to judge), at
   * once; the verdict comes as a promise (an address may be looked up).
   */
  checkEndpoint(socket: Socket | undefined, identity: ClientIdentity): EndpointVerdict | undefined | Promise<EndpointVerdict | undefined> {
    if (this.options()?.endpointIdentification !== 'HTTPS' || !socket) return undefined;
    return this.endpoints.check(socket, identity);
  }
}
