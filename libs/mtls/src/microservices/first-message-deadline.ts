import type { Socket } from 'node:net';
import { peerAddressOf } from '../logging/peer-address';
import type { TlsRefusalLog } from '../server/tls-refusal-log';

/**
 * The TCP counterpart of the HTTP first-request deadline: a connection that
 * finished its handshake must send its first complete message within
 * `timeoutMs`, else it is closed and logged (`timeout`). Node's TLS server has
 * no such timeout, and Nest's `incompleteMessageTimeout` starts only with the
 * first byte, so a peer that completes the handshake and sends nothing would
 * hold its connection (and a file descriptor) forever. After the first message
 * a connection may stay idle: ClientTCP keeps one connection open between calls.
 */
export class FirstMessageDeadline {
  private readonly timers = new WeakMap<Socket, NodeJS.Timeout>();

  constructor(private readonly refusals: () => TlsRefusalLog | undefined) {}

  /** Starts the clock for a connection whose handshake just finished. */
  start(socket: Socket, timeoutMs: number): void {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      this.timers.delete(socket);
      this.refusals()?.record({ stage: 'connection', peer: peerAddressOf(socket), reason: 'timeout', detail: `no message within ${timeoutMs} ms of the handshake` });
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    this.timers.set(socket, timer);
    socket.once('close', () => this.stop(socket));
  }

  /** The connection sent a complete message: no deadline any more. */
  stop(socket: Socket | undefined): void {
    if (!socket) return;
    const timer = this.timers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(socket);
  }
}
