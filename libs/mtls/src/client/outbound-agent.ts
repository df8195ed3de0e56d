import type { OnModuleDestroy } from '@nestjs/common';
import type { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Subscription } from 'rxjs';
import { MtlsMaterialSource } from '../material/material-source';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { secureContextOf } from '../material/snapshot-secrets';
import { opensslChecksCrls } from '../material/crl-checks';
import { FollowingHttpsAgent } from './following-https-agent';
import { ServerIdentityAgent } from './server-identity-agent';

/** The TLS settings a failed call is explained with. */
export interface OutboundTlsSettings {
  supportedProtocols: MtlsMaterialSnapshot['options']['supportedProtocols'];
  securityLevel: MtlsMaterialSnapshot['options']['securityLevel'];
}

/**
 * The connection pool of the application's outbound mTLS calls: one
 * keep-alive `https.Agent` made from the current material, made on first use
 * (an application that never calls out needs no clientAuth EKU), and made anew
 * when the material changes. The previous pool is drained, not cut: requests
 * in flight finish, and none of its connections is reused afterwards. Calls
 * that require a server identity get their own connections and TLS sessions
 * per rule (ServerIdentityAgent), so resumption never skips the check.
 */
export class MtlsOutboundAgent implements OnModuleDestroy {
  private pool?: { agent: Agent; settings: OutboundTlsSettings };
  private subscription?: Subscription;
  private following?: FollowingHttpsAgent;

  private constructor(private readonly source: MtlsMaterialSource) {}

  /** The pool of the application whose material `source` is (one per source: MtlsModule provides it, MtlsHttpClient finds it). */
  static of(source: MtlsMaterialSource): MtlsOutboundAgent {
    let pool = pools.get(source);
    if (!pool) pools.set(source, (pool = new MtlsOutboundAgent(source)));
    return pool;
  }

  /** Marks the client role in use (checks the clientAuth EKU now, and on every later material). */
  enable(): void {
    this.source.requireRole('clientAuth');
    this.subscription ??= this.source.changes.subscribe(() => this.retire());
  }

  /** One https.Agent for the life of the application that hands each request to the current pool (see FollowingHttpsAgent). */
  httpsAgent(): Agent {
    this.enable();
    this.following ??= new FollowingHttpsAgent(() => this.current().agent);
    return this.following;
  }

  /** The agent new requests go through, and the settings it was made with. */
  current(): { agent: Agent; settings: OutboundTlsSettings } {
    this.pool ??= this.make(this.source.current());
    return this.pool;
  }

  private make(snapshot: MtlsMaterialSnapshot): { agent: Agent; settings: OutboundTlsSettings } {
    const { key, cert, ca, minVersion, maxVersion, ciphers, ecdhCurve } = secureContextOf(snapshot);
    // The upstream's chain is checked against the CRL files by OpenSSL whenever that is the policy, whatever their size:
    // the pool keeps connections alive, so the cost of a large CRL per handshake is paid rarely (the server's gate does not apply here).
    const crl = opensslChecksCrls(snapshot.material, snapshot.options, new Date(), Infinity) ? snapshot.material.crls?.map((c) => c.pem) : undefined;
    // A Node secure context, not PEM text: the agent's options (and each socket's connect options) then hold no private key.
    const secureContext = createSecureContext({ key, cert, ca, crl, minVersion, maxVersion, ciphers, ...(ecdhCurve ? { ecdhCurve } : {}) });
    return {
      agent: new ServerIdentityAgent({ secureContext, keepAlive: true, maxSockets: 64, rejectUnauthorized: true }),
      settings: { supportedProtocols: snapshot.options.supportedProtocols, securityLevel: snapshot.options.securityLevel },
    };
  }

  /** New requests get a new pool; the old one closes idle connections now and the busy ones when their answer is read. */
  private retire(): void {
    const old = this.pool;
    this.pool = undefined;
    if (old) drain(old.agent);
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.pool?.agent.destroy();
    this.pool = undefined;
  }
}

/** The pool of each application's source. */
const pools = new WeakMap<MtlsMaterialSource, MtlsOutboundAgent>();

/** No new requests on `agent`'s connections: idle ones close now, busy ones when freed (keepAlive off). */
function drain(agent: Agent): void {
  (agent as Agent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
