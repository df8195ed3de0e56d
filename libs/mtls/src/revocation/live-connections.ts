import type { TLSSocket } from 'node:tls';
import type { PeerChain } from './peer-chain';

/** One open connection of a verified client, and how to close it (the endpoint that admitted it logs why). */
interface LiveConnection {
  socket: TLSSocket;
  close(detail: string): void;
}

/**
 * The open connections of verified clients, by client certificate: when new
 * revocation information arrives (a reloaded CRL file, a refreshed CRL, an
 * OCSP answer) every certificate with open connections is judged again, and
 * the connections of a revoked one are closed.
 */
export class LiveConnections {
  private readonly byCertificate = new Map<string, { chain: PeerChain; connections: Set<LiveConnection> }>();

  /** Registers an admitted connection until it closes. */
  add(socket: TLSSocket, chain: PeerChain, close: (detail: string) => void): void {
    const key = chain.leaf.fingerprint;
    let entry = this.byCertificate.get(key);
    if (!entry) {
      entry = { chain, connections: new Set() };
      this.byCertificate.set(key, entry);
    }
    const connection: LiveConnection = { socket, close };
    entry.connections.add(connection);
    const registered = entry;
    socket.once('close', () => {
      registered.connections.delete(connection);
      if (registered.connections.size === 0 && this.byCertificate.get(key) === registered) this.byCertificate.delete(key);
    });
  }

  /** The chains with open connections. */
  chains(): PeerChain[] {
    return [...this.byCertificate.values()].map((e) => e.chain);
  }

  /** Closes every open connection of the client certificate `fingerprint`; returns how many. */
  closeAll(fingerprint: string, detail: string): number {
    const entry = this.byCertificate.get(fingerprint);
    if (!entry) return 0;
    const connections = [...entry.connections];
    for (const connection of connections) connection.close(detail);
    return connections.length;
  }

  /** How many connections are open (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const entry of this.byCertificate.values()) n += entry.connections.size;
    return n;
  }
}
