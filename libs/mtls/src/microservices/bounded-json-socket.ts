import { TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

/** Why a connection's framing was refused: the refusal log's reason code and its detail. */
export type FramingRefusal = (reason: 'protocol' | 'timeout', detail: string) => void;

/** Limits of one connection's framing. */
export interface BoundedJsonSocketLimits {
  /** Largest message (its JSON, in UTF-8 bytes) a peer may send. */
  maxMessageBytes: number;
  /** A peer silent this long in the middle of a message is cut (0: never). */
  incompleteMessageTimeoutMs: number;
  /** Answers queued for a peer that does not read them, in bytes, before it is cut (0: no limit). */
  maxSendBufferBytes: number;
  /** Called once, just before the connection is destroyed for breaking a limit. */
  refuse: FramingRefusal;
}

const HASH = 0x23;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Nest's TCP framing (`<length>#<json>`, the length in UTF-16 code units of
 * the JSON, as Nest's JsonSocket writes it) read incrementally with hard
 * limits, in place of Nest's JsonSocket, which appends every chunk to one
 * string and searches it again from the start for the `#` (a peer sending
 * megabytes without one stalls the whole process), and accepts up to 128 M
 * characters per message by default.
 *
 * Here each chunk is decoded once and read once: the length prefix digit by
 * digit (only digits, refused as soon as it announces more than
 * `maxMessageBytes`), the body by counting (refused as soon as it passes
 * `maxMessageBytes` bytes), appended as it comes and parsed once complete. A message that is not JSON, a length prefix that is not a number, a
 * peer silent mid-message for `incompleteMessageTimeoutMs` or one that does not
 * read its answers (more than `maxSendBufferBytes` queued) closes the
 * connection, after `refuse` says why. Sending is Nest's: the same framing,
 * and reading paused while the peer does not take its answers.
 */
export class BoundedJsonSocket extends TcpSocket {
  private readonly decoder = new StringDecoder('utf8');
  /** The length prefix read so far, and its number of digits. */
  private announced = 0;
  private prefixDigits = 0;
  /** The body being read: its announced length (-1: reading a length prefix), what arrived of it, and its length and UTF-8 size. */
  private expected = -1;
  private body = '';
  private received = 0;
  private receivedBytes = 0;
  /** Text that arrived while reading was paused for backpressure. */
  private pending: string[] = [];
  private paused = false;
  private refused = false;
  private incompleteTimer?: NodeJS.Timeout;

  constructor(
    socket: Socket,
    private readonly limits: BoundedJsonSocketLimits,
  ) {
    super(socket);
    this.socket.once('close', () => this.clearIncompleteTimer());
  }

  protected handleSend(message: unknown, callback?: (err?: unknown) => void): void {
    const json = JSON.stringify(message);
    const flushed = this.socket.write(`${json.length}#${json}`, 'utf-8', callback);
    if (!flushed) this.pauseReading();
    if (this.limits.maxSendBufferBytes > 0 && this.socket.writableLength > this.limits.maxSendBufferBytes) {
      this.refuse('protocol', `more than ${this.limits.maxSendBufferBytes} bytes of answers queued for a peer that does not read them`);
    }
  }

  protected handleData(data: Buffer | string): void {
    if (this.refused) return;
    const text = typeof data === 'string' ? data : this.decoder.write(data);
    if (this.paused) this.pending.push(text);
    else this.read(text);
    this.armIncompleteTimer();
  }

  /** Reads one decoded chunk: length prefixes, bodies, and the messages they complete. */
  private read(text: string): void {
    const { maxMessageBytes } = this.limits;
    let i = 0;
    while (i < text.length && !this.refused) {
      if (this.paused) {
        this.pending.push(text.slice(i));
        return;
      }
      if (this.expected < 0) {
        // The length prefix: digits up to the '#'.
        for (; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c === HASH && this.prefixDigits > 0) {
            i++;
            this.expected = this.announced;
            this.announced = 0;
            this.prefixDigits = 0;
            break;
          }
          if (c < ZERO || c > NINE) {
            this.refuse('protocol', `length prefix is not a number (${JSON.stringify(text.slice(Math.max(0, i - this.prefixDigits), i + 1).slice(0, 16))})`);
            return;
          }
          this.announced = this.announced * 10 + (c - ZERO);
          this.prefixDigits++;
          if (this.announced > maxMessageBytes) {
            this.refuse('protocol', `length prefix announces at least ${this.announced} characters; maxMessageBytes is ${maxMessageBytes}`);
            return;
          }
        }
        if (this.expected === 0) this.complete();
        continue;
      }
      // The body: take what this chunk holds of it.
      const take = Math.min(this.expected - this.received, text.length - i);
      const piece = take === text.length ? text : text.slice(i, i + take);
      i += take;
      this.received += take;
      this.receivedBytes += Buffer.byteLength(piece, 'utf8');
      if (this.receivedBytes > maxMessageBytes) {
        this.refuse('protocol', `a message of more than maxMessageBytes (${maxMessageBytes}) bytes`);
        return;
      }
      this.body += piece; // a rope: flattened once, by JSON.parse
      if (this.received === this.expected) this.complete();
    }
  }

  /** The body is complete: parse it and hand it to the server. */
  private complete(): void {
    const body = this.body;
    this.expected = -1;
    this.body = '';
    this.received = 0;
    this.receivedBytes = 0;
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      this.refuse('protocol', `a message that is not JSON (${body.length} characters)`);
      return;
    }
    this.socket.emit('message', message || {});
  }

  private pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.paused = false;
      const pending = this.pending;
      this.pending = [];
      for (const text of pending) this.read(text); // paused again on the way: the rest waits in `pending`, in order
      if (!this.refused && !this.paused) this.socket.resume();
      this.armIncompleteTimer();
    });
  }

  /** A peer silent in the middle of a message (or of its length prefix) is cut after `incompleteMessageTimeoutMs`. */
  private armIncompleteTimer(): void {
    this.clearIncompleteTimer();
    const midMessage = this.expected >= 0 || this.prefixDigits > 0 || this.pending.length > 0;
    if (!midMessage || this.refused || this.limits.incompleteMessageTimeoutMs <= 0) return;
    this.incompleteTimer = setTimeout(() => this.refuse('timeout', `incomplete message: nothing more for ${this.limits.incompleteMessageTimeoutMs} ms`), this.limits.incompleteMessageTimeoutMs);
    this.incompleteTimer.unref();
  }

  private clearIncompleteTimer(): void {
    if (this.incompleteTimer) clearTimeout(this.incompleteTimer);
    this.incompleteTimer = undefined;
  }

  /** Says why, forgets what was buffered, and closes the connection (a peer that breaks the framing is not waited for). */
  private refuse(reason: 'protocol' | 'timeout', detail: string): void {
    if (this.refused) return;
    this.refused = true;
    this.clearIncompleteTimer();
    this.body = '';
    this.pending = [];
    this.limits.refuse(reason, detail);
    this.socket.destroy();
  }
}
