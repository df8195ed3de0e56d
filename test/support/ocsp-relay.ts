import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A plain HTTP server on loopback in front of an OCSP responder, standing
 * where a network attacker (or a slow network) would: it forwards each
 * request to `upstream` and hands the answer back after `delayMs`, keeps
 * every answer it saw (`answers`), or, with `replay` set, answers every
 * request with those bytes without asking anybody. Counts what it got.
 */
export class OcspRelay {
  /** Time to hold each answer back, in ms. */
  delayMs = 0;
  /** When set, the bytes served to every request instead of the upstream's answer. */
  replay?: Buffer;
  /** The answers the upstream gave, in order. */
  readonly answers: Buffer[] = [];
  /** Requests received. */
  requests = 0;
  private server!: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly upstream?: string) {}

  static async start(upstream?: string): Promise<OcspRelay> {
    const relay = new OcspRelay(upstream);
    relay.server = createServer((req, res) => {
      relay.requests++;
      void readBody(req).then(async (body) => {
        const answer = relay.replay ?? (relay.upstream ? await post(relay.upstream, body) : undefined);
        if (!relay.replay && answer) relay.answers.push(answer);
        setTimeout(() => {
          if (!answer) return void res.writeHead(502).end();
          res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': answer.length }).end(answer);
        }, relay.delayMs);
      }, () => res.writeHead(400).end());
    });
    relay.server.on('connection', (socket: Socket) => {
      relay.sockets.add(socket);
      socket.on('close', () => relay.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** `http://127.0.0.1:PORT/` */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** POSTs an OCSP request to `url` and returns the answer's bytes. */
export function post(url: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length } }, (res) => {
      readBody(res).then(resolve, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
