import type { Server as NetServer, Socket } from 'node:net';

const PEER = Symbol('nest-mtls:peer-address');

type Tagged = Socket & { [PEER]?: string; _parent?: Tagged };

/** `127.0.0.1:51234`, `[::1]:51234`; IPv4-mapped IPv6 addresses shown as IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const host = plain.includes(':') ? `[${plain}]` : plain;
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * Remembers each connection's peer address when the TCP connection arrives:
 * by the time a TLS server reports a failed handshake (`tlsClientError`),
 * Node has destroyed the socket and no longer knows the address.
 */
export function rememberPeerAddresses(server: NetServer): void {
  server.prependListener('connection', (raw: Tagged) => {
    raw[PEER] = formatPeer(raw.remoteAddress, raw.remotePort);
  });
}

/**
 * The peer address of a socket (a raw one, or the TLS socket wrapping it),
 * also after it was destroyed when {@link rememberPeerAddresses} saw it
 * arrive; `unknown` otherwise.
 */
export function peerAddressOf(socket: Socket | undefined): string {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- Tagged names the fields we read
  const tagged = socket as Tagged | undefined;
  // A server-side TLSSocket keeps the TCP socket it wraps in `_parent` (Node's own field).
  return tagged?.[PEER] ?? tagged?._parent?.[PEER] ?? formatPeer(tagged?.remoteAddress, tagged?.remotePort) ?? 'unknown';
}

/** The peer's host without the port, for grouping repeated refusals. */
export function peerHostOf(peer: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1];
  return peer.replace(/:\d+$/, '');
}
