import type { TLSSocket } from 'node:tls';

/** The WebSocket close code of a connection whose client certificate was revoked: 1008, policy violation (RFC 6455 §7.4.1). */
export const WS_CLOSE_REVOKED = 1008;

/** How long a WebSocket may take to write its close frame before its socket is destroyed anyway. */
const CLOSE_GRACE_MS = 1000;

interface WebSocketLike {
  readonly readyState: number;
  close(code: number, reason: string): void;
  _socket?: unknown;
}

/**
 * The `ws` WebSocket an upgraded connection carries, if any: `ws` keeps it
 * on the socket under its own `Symbol('websocket')` (not registered, so it
 * is found by its description, and checked to point back at the socket).
 * Looked up only when a connection is ended, never per message.
 */
function webSocketOf(socket: TLSSocket): WebSocketLike | undefined {
  for (const key of Object.getOwnPropertySymbols(socket)) {
    if (key.description !== 'websocket') continue;
    const candidate = (socket as unknown as Record<symbol, unknown>)[key] as Partial<WebSocketLike> | undefined;
    if (candidate && typeof candidate.close === 'function' && candidate._socket === socket) return candidate as WebSocketLike;
  }
  return undefined;
}

/** True when `socket` carries an open `ws` WebSocket (an upgraded HTTP/1.1 connection). */
export function isWebSocketConnection(socket: TLSSocket): boolean {
  const ws = webSocketOf(socket);
  return ws !== undefined && ws.readyState === 1;
}

/**
 * Ends a WebSocket connection with a close frame carrying `code` (the
 * client's `close` event has it), then destroys the socket within a second
 * even when the peer never answers the close. False when `socket` carries
 * no open WebSocket (the caller ends it another way).
 */
export function closeWebSocket(socket: TLSSocket, code: number, reason: string): boolean {
  const ws = webSocketOf(socket);
  if (!ws || ws.readyState !== 1 || socket.destroyed) return false;
  ws.close(code, reason);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  return true;
}
