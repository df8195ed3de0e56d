import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/**
 * A hand-made HTTP/2 client over real TLS, frame by frame (RFC 9113), for
 * what a well-behaved client never sends: floods of streams, PINGs and
 * SETTINGS, streams reset as soon as opened, a preface and then silence. It
 * writes what it is told and records the frames the server sends (it never
 * answers them: no SETTINGS ack, no PING ack unless asked).
 */

/** Frame types (RFC 9113 §6). */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
/** Error codes (RFC 9113 §7). */
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11, INADEQUATE_SECURITY: 12 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** One frame on the wire. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
function hpackInt(value: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A literal header field without indexing (RFC 7541 §6.2.2), the name by static-table index or literal. */
function literal(name: number | string, value: string): Buffer {
  const v = Buffer.from(value, 'latin1');
  if (typeof name === 'number') return Buffer.concat([hpackInt(name, 4), hpackInt(v.length, 7), v]);
  const n = Buffer.from(name, 'latin1');
  return Buffer.concat([Buffer.from([0]), hpackInt(n.length, 7), n, hpackInt(v.length, 7), v]);
}

/** A header block for a request: `:method`, `:scheme https`, `:path`, `:authority localhost`, and `extra` headers. */
export function requestBlock(method: 'GET' | 'POST', path: string, extra: Record<string, string> = {}): Buffer {
  return Buffer.concat([
    Buffer.from([method === 'GET' ? 0x82 : 0x83, 0x87]), // static table: :method GET/POST, :scheme https
    literal(4, path), // :path
    literal(1, 'localhost'), // :authority
    ...Object.entries(extra).map(([name, value]) => literal(name, value)),
  ]);
}

export const settingsFrame = (entries: Array<[id: number, value: number]> = []): Buffer => {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
};
export const pingFrame = (n: number): Buffer => {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(n >>> 0, 4);
  return frame(FRAME.PING, 0, 0, payload);
};
export const rstFrame = (stream: number, code: number = H2_ERROR.CANCEL): Buffer => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, payload);
};
/** The largest frame payload a peer must accept (SETTINGS_MAX_FRAME_SIZE's initial value). */
const MAX_FRAME = 16_384;

/**
 * HEADERS (END_STREAM unless a body follows), and CONTINUATION frames when
 * the block is larger than one frame may be; END_HEADERS on the last.
 */
export const headersFrame = (stream: number, block: Buffer, endStream = true): Buffer => {
  const parts: Buffer[] = [];
  for (let offset = 0; offset === 0 || offset < block.length; offset += MAX_FRAME) parts.push(block.subarray(offset, offset + MAX_FRAME));
  return Buffer.concat(
    parts.map((part, i) => {
      const last = i === parts.length - 1 ? 0x4 : 0;
      return i === 0 ? frame(FRAME.HEADERS, last | (endStream ? 0x1 : 0), stream, part) : frame(FRAME.CONTINUATION, last, stream, part);
    }),
  );
};
export const dataFrame = (stream: number, data: Buffer, endStream = false): Buffer => frame(FRAME.DATA, endStream ? 0x1 : 0, stream, data);

/** A raw HTTP/2 connection: the preface and an empty SETTINGS are sent on open. */
export class RawH2 {
  /** Every frame the server sent, in order (DATA payloads included). */
  readonly frames: Frame[] = [];
  /** The server's GOAWAY, once it sent one. */
  goaway?: { lastStream: number; code: number };
  closedAt?: number;
  readonly closed: Promise<void>;
  private rest = Buffer.alloc(0);
  private nextStream = 1;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.parse(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        resolve();
      }),
    );
  }

  /** Connects with ALPN h2 only (the handshake must choose h2) and sends the preface. */
  static open(port: number, tls: ConnectionOptions & { localAddress?: string }): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], ...tls }, () => {
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          return reject(new Error(`the server chose ALPN ${String(socket.alpnProtocol)}, not h2`));
        }
        const raw = new RawH2(socket);
        socket.write(Buffer.concat([PREFACE, settingsFrame()]));
        resolve(raw);
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** A new client stream id (odd, increasing). */
  streamId(): number {
    const id = this.nextStream;
    this.nextStream += 2;
    return id;
  }

  /** Writes `data`; resolves once the socket takes more (or at once), false when the connection is gone. */
  async write(data: Buffer): Promise<boolean> {
    if (this.socket.destroyed) return false;
    if (this.socket.write(data)) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Waits for the server's SETTINGS and acknowledges them (from then on the server holds us to them, RFC 9113 §6.5.3). */
  async ackSettings(): Promise<void> {
    await this.until(() => this.frames.some((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 0), "the server's SETTINGS");
    await this.write(frame(FRAME.SETTINGS, 0x1, 0));
    await this.until(() => this.frames.some((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) !== 0), 'the ack of our SETTINGS');
  }

  /** The frames of `type` the server sent (on `stream`, when given). */
  sent(type: number, stream?: number): Frame[] {
    return this.frames.filter((f) => f.type === type && (stream === undefined || f.stream === stream));
  }

  /** RST_STREAM codes the server sent, by stream. */
  resets(): Map<number, number> {
    return new Map(this.sent(FRAME.RST_STREAM).map((f) => [f.stream, f.payload.readUInt32BE(0)]));
  }

  /** Resolves once `check()` holds, or rejects after `limitMs`. */
  async until(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!check()) {
      if (Date.now() - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms (frames: ${this.frames.map((f) => f.type).join(',')}; closed ${this.isClosed})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(chunk: Buffer): void {
    let buffer = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    while (buffer.length >= 9) {
      const length = buffer.readUIntBE(0, 3);
      if (buffer.length < 9 + length) break;
      const f: Frame = { type: buffer[3], flags: buffer[4], stream: buffer.readUInt32BE(5) & 0x7fffffff, payload: buffer.subarray(9, 9 + length) };
      this.frames.push(f);
      if (f.type === FRAME.GOAWAY) this.goaway = { lastStream: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
      buffer = buffer.subarray(9 + length);
    }
    this.rest = Buffer.from(buffer);
  }
}
