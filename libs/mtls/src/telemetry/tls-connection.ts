import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KEY_EXCHANGE_GROUP_NAMES, canonicalGroupName } from '../config/key-exchange-groups';
import { DER, DerReader } from '../x509/der-reader';

/** How a TLS connection was set up: what its last handshake negotiated. */
export interface TlsConnectionInfo {
  /** `TLSv1.3` or `TLSv1.2`. */
  protocol: string;
  /** The cipher suite, by its standard (IANA) name: `TLS_AES_256_GCM_SHA384`. */
  cipher: string;
  /**
   * The key-exchange group the session keys were agreed with, as OpenSSL
   * names it: `X25519MLKEM768` (hybrid post-quantum), `X25519`, `secp256r1`,
   * ...; `0x` and the code point for a group without a name here; `none` for
   * a TLS 1.2 key exchange without one (static RSA); `unknown` when it cannot
   * be read. On a resumed TLS 1.2 session: the group of the original handshake.
   */
  keyExchangeGroup: string;
}

/** `[19]`: OpenSSL's `kex_group` field of its SSL_SESSION encoding (ssl/ssl_asn1.c, OpenSSL 3.0 and later). */
const KEX_GROUP_TAG = 0xb3;

const byConnection = new WeakMap<TLSSocket, TlsConnectionInfo>();

function isTlsSocket(socket: Socket | TLSSocket | undefined | null): socket is TLSSocket {
  return !!socket && (socket as TLSSocket).encrypted === true && typeof (socket as TLSSocket).getSession === 'function';
}

/**
 * The protocol, cipher suite and key-exchange group of a TLS connection,
 * read once per handshake and cached on the socket (a renegotiation reads
 * them again); undefined for a socket that is not TLS or whose handshake is
 * not over. Never throws.
 *
 * The group: Node has no API for it on the server side (`getEphemeralKeyInfo()`
 * is null there, on Node 20, 22 and 24), so it is read from the session
 * OpenSSL hands out (`getSession()`, OpenSSL's own encoding, which records
 * the group since OpenSSL 3.0), on both sides; the session's secrets are
 * wiped from that copy at once. A client falls back on `getEphemeralKeyInfo()`.
 */
export function tlsConnectionOf(socket: Socket | TLSSocket | undefined | null): TlsConnectionInfo | undefined {
  if (!isTlsSocket(socket)) return undefined;
  const cached = byConnection.get(socket);
  if (cached) return cached;
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher();
  if (!protocol || !cipher) return undefined;
  const info: TlsConnectionInfo = { protocol, cipher: cipher.standardName ?? cipher.name, keyExchangeGroup: negotiatedGroup(socket, protocol, cipher.standardName ?? cipher.name) };
  byConnection.set(socket, info);
  socket.once('secure', () => byConnection.delete(socket));
  return info;
}

/** The metric label of a group: its name when it is one of the known groups, `unknown`, or `other` (a bounded set). */
export function groupLabel(group: string): string {
  return group === 'unknown' || group === 'none' || KNOWN_NAMES.has(group) ? group : 'other';
}

const KNOWN_NAMES = new Set(KEY_EXCHANGE_GROUP_NAMES.values());

function negotiatedGroup(socket: TLSSocket, protocol: string, cipher: string): string {
  const fromSession = groupOfSession(socket);
  if (fromSession !== undefined) return nameOf(fromSession);
  if (protocol === 'TLSv1.2' && !/_(EC)?DHE_/.test(cipher)) return 'none';
  const info = socket.getEphemeralKeyInfo() as { name?: string } | null;
  if (info?.name) return canonicalGroupName(info.name) ?? info.name;
  return 'unknown';
}

function nameOf(codePoint: number): string {
  return KEY_EXCHANGE_GROUP_NAMES.get(codePoint) ?? `0x${codePoint.toString(16).padStart(4, '0')}`;
}

/** The `kex_group` of the socket's current session, or undefined when it has none (or none can be read). */
function groupOfSession(socket: TLSSocket): number | undefined {
  let session: Buffer | undefined;
  try {
    session = socket.getSession();
    if (!session) return undefined;
    const top = new DerReader(session);
    const reader = DerReader.within(session, top.next(DER.SEQUENCE, 'session'));
    while (!reader.done) {
      const element = reader.next();
      if (element.tag !== KEX_GROUP_TAG) continue;
      const value = DerReader.within(session, element).next(DER.INTEGER, 'kex_group');
      if (value.end - value.contentStart > 3) return undefined;
      let codePoint = 0;
      for (let i = value.contentStart; i < value.end; i++) codePoint = codePoint * 256 + session[i];
      return codePoint;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    // The encoding holds the session's master secret: no copy of it outlives this function.
    session?.fill(0);
  }
}
