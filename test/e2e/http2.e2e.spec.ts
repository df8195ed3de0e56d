import { Controller, Get, Module, Post, Req, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { connect as h2connect, constants as h2, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { ClientCert, MtlsModule, RequireClientCert, shutdownGracefully, type MtlsOptions } from 'nest-mtls';
import { MtlsFastifyAdapter, type MtlsFastifyAdapterOptions } from 'nest-mtls/fastify';
import { UserServiceModule } from '../../apps/user-service/src/user-service.module';
import { FRAME, H2_ERROR, RawH2, dataFrame, headersFrame, pingFrame, requestBlock, rstFrame, settingsFrame } from '../support/h2-frames';
import { requireTool } from '../support/require-tool';
import { CapturingLogger } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { httpsGet, run } from '../support/tls-probe';
import { waitForLine, waitUntil } from '../support/wait-for-line';

/** An application served by MtlsFastifyAdapter with `adapterOptions` (HTTP/2 unless told otherwise). */
interface Running {
  port: number;
  logs: CapturingLogger;
  app: Awaited<ReturnType<typeof startOn>>['app'];
  close(): Promise<void>;
}

async function startOn(module: Type, adapterOptions: MtlsFastifyAdapterOptions = { http2: true }) {
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [module] }).setLogger(logs).compile();
  const app = moduleRef.createNestApplication(new MtlsFastifyAdapter(adapterOptions), { logger: logs, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, logs, close: () => app.close() };
}

/** user-service as its main.ts builds it with HTTP2=true (its PKCS#12 and trust store through MTLS_* variables). */
async function startUserServiceH2(pki: TestPki, adapterOptions: MtlsFastifyAdapterOptions = { http2: true }): Promise<Running> {
  const saved = { ...process.env };
  Object.assign(process.env, { MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12, MTLS_KEY_STORE_PASSWORD: PASSWORD, MTLS_TRUST_STORE_PATH: pki.trustStore });
  try {
    const running = await startOn(UserServiceModule, adapterOptions);
    return { ...running, close: async () => running.close().finally(() => (process.env = saved)) };
  } catch (err) {
    process.env = saved;
    throw err;
  }
}

/** An app with MtlsModule.forRoot(options) and `controllers`. */
function startWith(options: MtlsOptions, controllers: Type[], adapterOptions: MtlsFastifyAdapterOptions = { http2: true }): Promise<Running> {
  @Module({ imports: [MtlsModule.forRoot(options)], controllers })
  class H2TestModule {}
  return startOn(H2TestModule, adapterOptions);
}

/** An HTTP/2 session to 127.0.0.1:port presenting `tls` (Node's client: ALPN h2 only). */
function session(port: number, tls: ConnectionOptions): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const client = h2connect(`https://localhost:${port}`, { ...tls, host: '127.0.0.1', servername: 'localhost' } as never);
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on an HTTP/2 session. */
function h2request(client: ClientHttp2Session, path: string, method = 'GET', body?: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':method': method, ':path': path, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, { endStream: body === undefined });
    let headers: IncomingHttpHeaders = {};
    let data = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (chunk: string) => (data += chunk));
    stream.on('end', () => (headers[':status'] === undefined ? reject(Object.assign(new Error('the stream ended without an answer'), { code: `RST ${stream.rstCode}` })) : resolve({ status: Number(headers[':status']), headers, body: data })));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** A request on a new session; the session is closed after. */
async function h2get(port: number, tls: ConnectionOptions, path: string): Promise<H2Answer & { alpn: string | false | undefined }> {
  const client = await session(port, tls);
  try {
    const answer = await h2request(client, path);
    return { ...answer, alpn: client.alpnProtocol };
  } finally {
    client.close();
  }
}

/** The outcome of a TLS handshake offering `alpn`: the protocol chosen, or the client's error code. */
function alpnOutcome(port: number, tls: ConnectionOptions, alpn: string[] | undefined): Promise<{ alpn: string | false } | { error: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tls, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => {
      resolve({ alpn: socket.alpnProtocol ?? false });
      socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

/** Resolves once `client` closes. */
function closedSession(client: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => (client.closed || client.destroyed ? resolve() : client.once('close', () => resolve())));
}

/** Who called, over which HTTP version: a route only home-page-service may call. */
@Controller('h2')
class Http2TestController {
  static inFlight = 0;
  static maxInFlight = 0;
  private static waiting: Array<() => void> = [];
  static arrived?: () => void;

  /** Lets every held request answer. */
  static release(): void {
    for (const resolve of Http2TestController.waiting.splice(0)) resolve();
  }

  static reset(): void {
    Http2TestController.release();
    Http2TestController.inFlight = 0;
    Http2TestController.maxInFlight = 0;
  }

  @Get('whoami')
  @RequireClientCert(/^CN=home-page-service,/)
  whoami(@ClientCert('subject') subject: string, @Req() req: { raw: { httpVersion: string } }) {
    return { subject, httpVersion: req.raw.httpVersion };
  }

  /** Answers once released; counts how many are held at once. */
  @Get('hold')
  @RequireClientCert(/^CN=home-page-service,/)
  async hold() {
    Http2TestController.inFlight++;
    Http2TestController.maxInFlight = Math.max(Http2TestController.maxInFlight, Http2TestController.inFlight);
    Http2TestController.arrived?.();
    await new Promise<void>((resolve) => Http2TestController.waiting.push(resolve));
    Http2TestController.inFlight--;
    return { done: true };
  }

  @Post('echo')
  @RequireClientCert(/^CN=home-page-service,/)
  echo(@Req() req: { body: unknown }) {
    return { echo: req.body };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('HTTP/2 on MtlsFastifyAdapter: user-service over h2 and HTTP/1.1 on one port', () => {
  let pki: TestPki;
  let svc: Running;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserServiceH2(pki);
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('home-page-service: GET /users/1 answers 200 over h2 (ALPN h2)', async () => {
    const answer = await h2get(svc.port, pki.clientTls('home-page-service'), '/users/1');
    expect(answer.alpn).toBe('h2');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ id: 1 });
  });

  it("event-service: 403 over h2 with the article's message, nothing more", async () => {
    const answer = await h2get(svc.port, pki.clientTls('event-service'), '/users/1');
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
  });

  it('no client certificate: refused in the handshake, no stream is answered, one refusal line (no_certificate)', async () => {
    const from = svc.logs.lines.length;
    const outcome = await session(svc.port, pki.clientTls())
      .then((client) => h2request(client, '/users/1').then((a) => `answered ${a.status}`, (err: NodeJS.ErrnoException) => `failed ${err.code}`))
      .catch((err: NodeJS.ErrnoException) => `failed ${err.code}`);
    expect(outcome).toMatch(/^failed /);
    await waitForLine(svc.logs.lines, /TLS handshake from 127\.0\.0\.1:\d+ refused: no_certificate/, 10_000, from);
  });

  it('an untrusted certificate: refused in the handshake (unknown_ca)', async () => {
    await pki.issue('h2-stranger', { subject: 'CN=home-page-service,O=nest-mtls' }, pki.otherGlobal);
    const from = svc.logs.lines.length;
    const outcome = await h2get(svc.port, pki.clientTls('h2-stranger'), '/users/1').then((a) => `answered ${a.status}`, () => 'failed');
    expect(outcome).toBe('failed');
    await waitForLine(svc.logs.lines, /TLS handshake from 127\.0\.0\.1:\d+ refused: unknown_ca/, 10_000, from);
  });

  it('HTTP/1.1 on the same port: Node https (no ALPN) and a client offering only http/1.1 are served, with the same policy', async () => {
    expect(await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).toMatchObject({ status: 200, json: expect.objectContaining({ id: 1 }) });
    expect(await httpsGet(svc.port, '/users/1', pki.clientTls('event-service'))).toMatchObject({ status: 403, json: { statusCode: 403, message: 'Certificate subject is not recognized!' } });
    expect(await alpnOutcome(svc.port, pki.clientTls('home-page-service'), ['http/1.1'])).toEqual({ alpn: 'http/1.1' });
    expect(await alpnOutcome(svc.port, pki.clientTls('home-page-service'), ['h2', 'http/1.1'])).toEqual({ alpn: 'h2' });
  });

  const describeCurl = requireTool('curl', 'the curl checks over HTTP/2') ? describe : describe.skip;
  describeCurl('curl', () => {
    const as = (name: string) => ['--cert', pki.certs[name].chain, '--key', pki.certs[name].key, '--cacert', pki.trustStore];
    const url = (path: string) => `https://localhost:${svc.port}${path}`;
    const curl = (...args: string[]) => run('curl', ['-sS', '-v', '--max-time', '10', '-w', '\n%{http_code} %{http_version}', ...args]);

    it('this curl speaks HTTP/2', async () => {
      expect((await run('curl', ['-V'])).stdout).toMatch(/^Features:.*\bHTTP2\b/m);
    });

    it('curl --http2: ALPN h2, HTTP/2 200 for home-page-service, 403 for event-service', async () => {
      const allowed = await curl('--http2', ...as('home-page-service'), url('/users/1'));
      expect(allowed.stderr).toMatch(/ALPN: server accepted h2|ALPN, server accepted to use h2/);
      expect(allowed.stdout).toMatch(/\n200 2$/);
      expect(JSON.parse(allowed.stdout.split('\n')[0])).toMatchObject({ id: 1 });
      const blocked = await curl('--http2', ...as('event-service'), url('/users/1'));
      expect(blocked.stdout).toMatch(/\n403 2$/);
      expect(blocked.stdout).toContain('Certificate subject is not recognized!');
    });

    it('curl --http1.1 on the same port: ALPN http/1.1, 200', async () => {
      const r = await curl('--http1.1', ...as('home-page-service'), url('/users/1'));
      expect(r.stderr).toMatch(/ALPN: server accepted http\/1\.1|ALPN, server accepted to use http\/1\.1/);
      expect(r.stdout).toMatch(/\n200 1\.1$/);
    });

    it('curl --http2 without a certificate: refused in the handshake', async () => {
      const r = await run('curl', ['-sS', '--max-time', '10', '--http2', '--cacert', pki.trustStore, url('/users/1')]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
    });
  });
});

/**
 * What each side of ALPN does with a client that offers the other protocol:
 * an HTTP/1.1-only server (MtlsFastifyAdapter without http2) and an
 * HTTP/2-only one (allowHTTP1: false) refuse in the handshake, with the
 * reason `protocol` and a hint; a client that offers no protocol at all is
 * HTTP/1.1 to the first, and closed by the second.
 */
describe('HTTP/2 on MtlsFastifyAdapter: ALPN mismatches', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('a client offering only h2 to an HTTP/1.1-only server is refused in the handshake (protocol, with a hint)', async () => {
    const svc = await startWith(pki.pemOptions('user-service'), [Http2TestController], {});
    try {
      expect(await alpnOutcome(svc.port, pki.clientTls('home-page-service'), ['h2'])).toEqual({ error: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
      const line = await waitForLine(svc.logs.lines, /TLS handshake from 127\.0\.0\.1:\d+ refused/);
      expect(line).toMatch(/refused: protocol \(ERR_SSL_NO_APPLICATION_PROTOCOL\); hint: the client offered no application protocol \(ALPN\) this server speaks: h2 to a server of HTTP\/1\.1 only/);
      // Node's http2 client is refused the same way; HTTP/1.1 clients are served.
      await expect(session(svc.port, pki.clientTls('home-page-service'))).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
      expect(await httpsGet(svc.port, '/h2/whoami', pki.clientTls('home-page-service'))).toMatchObject({ status: 200, json: { httpVersion: '1.1' } });
    } finally {
      await svc.close();
    }
  });

  it('allowHTTP1 true (the default): a client offering only http/1.1, or no ALPN at all, is served HTTP/1.1; h2 clients HTTP/2', async () => {
    const svc = await startWith(pki.pemOptions('user-service'), [Http2TestController]);
    try {
      expect(await alpnOutcome(svc.port, pki.clientTls('home-page-service'), ['http/1.1'])).toEqual({ alpn: 'http/1.1' });
      expect(await httpsGet(svc.port, '/h2/whoami', pki.clientTls('home-page-service'))).toMatchObject({ status: 200, json: { httpVersion: '1.1' } });
      expect(JSON.parse((await h2get(svc.port, pki.clientTls('home-page-service'), '/h2/whoami')).body)).toEqual({ subject: 'CN=home-page-service,O=nest-mtls', httpVersion: '2.0' });
    } finally {
      await svc.close();
    }
  });

  it('allowHTTP1 false: only-http/1.1 is refused in the handshake, no ALPN is closed after it (protocol), h2 is served', async () => {
    const svc = await startWith(pki.pemOptions('user-service'), [Http2TestController], { http2: { allowHTTP1: false } });
    try {
      expect(await alpnOutcome(svc.port, pki.clientTls('home-page-service'), ['http/1.1'])).toEqual({ error: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
      await waitForLine(svc.logs.lines, /TLS handshake from 127\.0\.0\.1:\d+ refused: protocol \(ERR_SSL_NO_APPLICATION_PROTOCOL\); hint: .*only http\/1\.1 to a server of HTTP\/2 only/);
      // No ALPN: the handshake completes (TLS has no say), then the connection is closed without Node's plain-text 403.
      const from = svc.logs.lines.length;
      const answer = await httpsGet(svc.port, '/h2/whoami', pki.clientTls('home-page-service')).then((a) => `answered ${a.status}`, (err: NodeJS.ErrnoException) => `failed ${err.code}`);
      expect(answer).toMatch(/^failed (ECONNRESET|EPIPE)/);
      expect(await waitForLine(svc.logs.lines, /connection from 127\.0\.0\.1:\d+ refused: protocol/, 10_000, from)).toMatch(
        /refused: protocol \(the client offered no ALPN protocol; this server speaks HTTP\/2 \(h2\) only \(allowHTTP1: false\)\); presented subject CN=home-page-service,O=nest-mtls$/,
      );
      expect((await h2get(svc.port, pki.clientTls('home-page-service'), '/h2/whoami')).status).toBe(200);
    } finally {
      await svc.close();
    }
  });
});

/**
 * One HTTP/2 session is one TLS connection, one certificate: the guard
 * reads the identity of the session's TLS socket, not of the stand-in
 * `req.socket` Node makes per stream, so many requests on one session cost
 * one identity lookup.
 */
describe('HTTP/2 on MtlsFastifyAdapter: one identity per session', () => {
  let pki: TestPki;
  let svc: Running;
  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWith(pki.pemOptions('user-service'), [Http2TestController]);
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('40 requests on one session read the peer certificate once; every one is judged (allowed and refused alike)', async () => {
    const server = svc.app.getHttpServer();
    const original = TLSSocket.prototype.getPeerCertificate;
    let reads = 0;
    const spy = jest.spyOn(TLSSocket.prototype, 'getPeerCertificate').mockImplementation(function (this: TLSSocket & { server?: unknown }, detailed?: boolean) {
      if (this.server === server) reads++;
      return original.call(this, detailed as true);
    });
    try {
      const home = await session(svc.port, pki.clientTls('home-page-service'));
      const answers = await Promise.all(Array.from({ length: 40 }, () => h2request(home, '/h2/whoami')));
      expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
      expect(new Set(answers.map((a) => a.body))).toEqual(new Set([JSON.stringify({ subject: 'CN=home-page-service,O=nest-mtls', httpVersion: '2.0' })]));
      expect(reads).toBe(1);
      home.close();
      // Another caller's session is judged on its own certificate: refused, and read once too.
      const events = await session(svc.port, pki.clientTls('event-service'));
      const refused = await Promise.all(Array.from({ length: 10 }, () => h2request(events, '/h2/whoami')));
      expect(refused.map((a) => a.status)).toEqual(Array(10).fill(403));
      expect(reads).toBe(2);
      events.close();
    } finally {
      spy.mockRestore();
    }
  });
});
