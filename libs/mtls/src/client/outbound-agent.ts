import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Agent } from 'node:https';
import type { Subscription } from 'rxjs';
import { MtlsMaterialSource } from '../material/material-source';
import type { MtlsMaterialSnapshot } from '../material/material-snapshot';
import { secureContextOf } from '../material/snapshot-secrets';
import { opensslChecksCrls } from '../material/crl-checks';
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
@Injectable()
export class MtlsOutboundAgent implements OnModuleDestroy {
  private pool?: { agent: Agent; settings: OutboundTlsSettings };
  private subscription?: Subscription;

  constructor(private readonly source: MtlsMaterialSource) {}

  /** Marks the client role in use (checks the clientAuth EKU now, and on every later material). */
  enable(): void {
    this.source.requireRole('clientAuth');
    this.subscription ??= this.source.changes.subscribe(() => this.retire());
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
    return {
      agent: new ServerIdentityAgent({ key, cert, ca, crl, minVersion, maxVersion, ciphers, ecdhCurve, keepAlive: true, maxSockets: 64, rejectUnauthorized: true }),
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
    this.pool?.agent.destroy();
    this.pool = undefined;
  }
}

/** No new requests on `agent`'s connections: idle ones close now, busy ones when freed (keepAlive off). */
function drain(agent: Agent): void {
  (agent as Agent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
