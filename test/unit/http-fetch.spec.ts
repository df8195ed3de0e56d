import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpFetch } from 'nest-mtls/internal';
import { CrlServer } from '../support/crl-server';

/** The bounds of CRL downloads and OCSP queries, against a real HTTP server on loopback. */
describe('httpFetch', () => {
  let server: CrlServer;
  let chunked: Server;
  let chunkedPort: number;

  beforeAll(async () => {
    server = await CrlServer.start();
    server.files.set('small', Buffer.alloc(1000, 1));
    server.files.set('large', Buffer.alloc(5000, 1));
    server.hangs.add('never');
    // No content-length: the size is only known while reading.
    chunked = createServer((_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 2));
      res.end();
    });
    await new Promise<void>((resolve) => chunked.listen(0, '127.0.0.1', resolve));
    chunkedPort = (chunked.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await server.stop();
    await new Promise((resolve) => chunked.close(resolve));
  });

  const limits = { timeoutMs: 500, maxBytes: 4096 };

  it('brings back a body within the limits', async () => {
    expect(await httpFetch(server.url('small'), limits)).toHaveLength(1000);
  });

  it('refuses a body larger than maxBytes, announced or streamed', async () => {
    await expect(httpFetch(server.url('large'), limits)).rejects.toThrow(/announced 5000 bytes, more than the 4096 accepted/);
    await expect(httpFetch(`http://127.0.0.1:${chunkedPort}/`, limits)).rejects.toThrow(/sent more than the 4096 bytes accepted/);
  });

  it('gives up after timeoutMs, and names a status other than 200 and a refused connection', async () => {
    const started = Date.now();
    await expect(httpFetch(server.url('never'), limits)).rejects.toThrow(/did not answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(httpFetch(server.url('missing'), limits)).rejects.toThrow(/answered HTTP 404/);
    await expect(httpFetch('https://127.0.0.1/', limits)).rejects.toThrow(/only http: URLs/);
  });
});
