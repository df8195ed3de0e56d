import { Agent, type AgentOptions } from 'node:https';
import type { Socket } from 'node:net';
import { checkServerIdentity, connect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { serverIdentityOf, serverIdentityProblem, ServerIdentityMismatchError, type ServerIdentityRule } from './server-identity';

/** The request option that carries a call's server identity rule to the agent. */
export const SERVER_IDENTITY_OPTION = 'nestMtlsServerIdentity';

type RuleOptions = ConnectionOptions & { [SERVER_IDENTITY_OPTION]?: ServerIdentityRule; _agentKey?: string };

/** A TLS session this agent may resume, with the server identity its full handshake verified. */
interface KeptSession {
  session: Buffer;
  identity: ClientIdentity;
}

const MAX_SESSIONS = 100;

/**
 * The outbound keep-alive pool, where a call may require the server's
 * certificate to match a rule besides the hostname. Node checks the server
 * (`checkServerIdentity`) only on a full handshake: a resumed session shows
 * no peer certificate at all. So, for calls with a rule:
 * - connections and sessions are kept apart per rule (the rule's key is part
 *   of the connection name): a connection or session made for one rule, or
 *   for none, never serves a call with another;
 * - each session is stored with the identity its full handshake verified,
 *   and a resumed connection takes that identity and is judged again; a
 *   resumed session whose identity is not known is closed (fail closed).
 * Calls without a rule behave as Node's own https.Agent.
 */
export class ServerIdentityAgent extends Agent {
  private readonly sessions = new LRUCache<string, KeptSession>({ max: MAX_SESSIONS });

  constructor(options: AgentOptions) {
    super(options);
  }

  override getName(options?: RuleOptions): string {
    const name = super.getName(options);
    const rule = options?.[SERVER_IDENTITY_OPTION];
    return rule ? `${name}:server-identity:${rule.key}` : name;
  }

  override createConnection(options: RuleOptions, callback?: (err: Error | null, socket: Socket) => void): Socket {
    const rule = options?.[SERVER_IDENTITY_OPTION];
    if (!rule) return (Agent.prototype as unknown as { createConnection: (o: unknown, cb?: unknown) => Socket }).createConnection.call(this, options, callback);
    const name = options._agentKey ?? this.getName(options);
    const offered = this.sessions.get(name);
    let identity: ClientIdentity | undefined;
    let newSession: Buffer | undefined;
    const keep = () => {
      if (!identity || !newSession) return;
      this.sessions.set(name, { session: newSession, identity });
      newSession = undefined;
    };
    const socket: TLSSocket = connect({
      ...options,
      session: offered?.session,
      // Called by Node after the chain verified, on full handshakes only.
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const hostProblem = (options.checkServerIdentity ?? checkServerIdentity)(host, cert);
        if (hostProblem) return hostProblem;
        const seen = serverIdentityOf(cert.raw, cert.fingerprint256);
        const problem = serverIdentityProblem(rule, seen);
        if (problem) return problem;
        identity = seen as ClientIdentity;
        keep();
        return undefined;
      },
    });
    socket.once('secureConnect', () => {
      if (!socket.isSessionReused()) return;
      if (!offered || socket.getSession() === undefined) {
        socket.destroy(new ServerIdentityMismatchError(rule.expected, 'a resumed TLS session whose server identity is not known'));
        return;
      }
      const problem = serverIdentityProblem(rule, offered.identity);
      if (problem) {
        socket.destroy(problem);
        return;
      }
      identity = offered.identity;
      keep();
    });
    socket.on('session', (session: Buffer) => {
      newSession = session;
      keep();
    });
    socket.once('close', (hadError: boolean) => {
      if (hadError) this.sessions.delete(name);
    });
    return socket;
  }

  override destroy(): void {
    this.sessions.clear();
    super.destroy();
  }
}
