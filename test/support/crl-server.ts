import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A plain HTTP server on loopback that serves what a test puts in `files`
 * (CRLs, at the URLs the test certificates name), counts the requests per
 * path, can hold a path's answer back (`delays`) or never answer it
 * (`hangs`), and can be stopped and started again on the same port (a CRL
 * server that is down). `closed` counts, per path, requests whose connection
 * has closed (for a path in `hangs`, only the client can have closed it).
 */
export class CrlServer {
  readonly files = new Map<string, Buffer | string>();
  readonly requests = new Map<string, number>();
  readonly delays = new Map<string, number>();
  readonly hangs = new Set<string>();
  readonly closed = new Map<string, number>();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  static async start(): Promise<CrlServer> {
    const server = new CrlServer();
    await server.listen(0);
    return server;
  }

  /** `http://127.0.0.1:PORT/path` */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path.replace(/^\//, '')}`;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').slice(1);
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      req.socket.once('close', () => this.closed.set(path, (this.closed.get(path) ?? 0) + 1));
      if (this.hangs.has(path)) return; // never answers
      const body = this.files.get(path);
      setTimeout(() => {
        if (body === undefined) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': Buffer.byteLength(body) }).end(body);
      }, this.delays.get(path) ?? 0);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
      this.port = (server.address() as AddressInfo).port;
      resolve();
    }));
  }

  /** Stops answering: connections are refused until `start()`. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Listens again on the same port. */
  restart(): Promise<void> {
    return this.listen(this.port);
  }

  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  /** Requests received, on every path. */
  total(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }
}
