import { Controller, Get } from '@nestjs/common';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { MtlsClientError, type MtlsOptions } from 'nest-mtls';
import { HTTP_ADAPTERS, startUserService, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet } from '../support/tls-probe';
import { waitForLine } from '../support/wait-for';
import { getJsonOnce } from '../support/mtls-client-app';

const LOCAL = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };
const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
/**
 * A peer that lowers its own floor so that it can present a weak key: Node 24's
 * OpenSSL refuses to load a 1024-bit RSA key at its default level (2), and
 * without this the client would fail before our server ever saw its key.
 */
const PRESENTS_WEAK_KEYS = { ciphers: 'DEFAULT@SECLEVEL=0' } as const;

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

/**
 * Minimum key strength (securityLevel, OpenSSL's @SECLEVEL): CA-signed but weak
 * RSA keys are refused in the handshake, as client certificates, as upstream
 * servers and as our own key at startup, over TLS 1.2 and TLS 1.3, each with a
 * control case showing the same path works with a strong enough key.
 */
describe('securityLevel', () => {
  let pki: TestPki;
  const servers: Server[] = [];

  /** A client certificate CN=home-page-service (allowed by user-service) with an RSA key of `bits`. */
  const homePageRsa = (bits: number) => `home-page-rsa-${bits}`;

  beforeAll(async () => {
    pki = await TestPki.create();
    for (const bits of [1024, 2048, 3072]) {
      await pki.issue(homePageRsa(bits), { subject: 'CN=home-page-service,O=nest-mtls', keyAlgorithm: 'rsa', modulusLength: bits, ...LOCAL });
    }
  });

  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    pki?.cleanup();
  });

  describe.each(HTTP_ADAPTERS)('%s: user-service at the default level (2)', (adapter) => {
    let app: RunningApp;
    beforeAll(async () => (app = await startUserService(pki, {}, adapter)));
    afterAll(() => app?.close());

    // Each from a loopback address of its own: the refusal log writes a refusal it has just written for the same host
    // only in its summary, ten seconds later ("and 1 more in the last 10 s").
    it.each([
      ['TLS 1.2', TLS12, '127.0.0.1'],
      ['TLS 1.3', TLS13, '127.0.0.2'],
    ])('refuses a CA-signed 1024-bit RSA client certificate in the handshake over %s, and logs why', async (_v, versions, localAddress) => {
      const from = app.logs.lines.length;
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(1024)), ...versions, ...PRESENTS_WEAK_KEYS, localAddress }, '/users/1')).toBe('refused');
      // Refused by our server, not by the client's own OpenSSL.
      const host = localAddress.replace(/\./g, '\\.');
      await waitForLine(app.logs.lines, new RegExp(`^WARN TLS handshake from ${host}:\\d+ refused: weak_key `), 10_000, from);
    });

    it('the weak client presents its key where the server admits it (control: a plain Node server at OpenSSL level 0)', async () => {
      const cert = pki.certs['user-service'].issued;
      const server = createHttpsServer({ key: cert.keyPem, cert: cert.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: true, ...PRESENTS_WEAK_KEYS }, (req, res) =>
        res.end(JSON.stringify({ authorized: (req.socket as TLSSocket).authorized })),
      );
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const answer = await httpsGet((server.address() as AddressInfo).port, '/', { ...pki.clientTls(homePageRsa(1024)), ...PRESENTS_WEAK_KEYS });
      expect(answer).toMatchObject({ status: 200, json: { authorized: true } });
    });

    it.each([
      ['TLS 1.2', TLS12],
      ['TLS 1.3', TLS13],
    ])('lets a 2048-bit RSA client certificate in over %s (control)', async (_v, versions) => {
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(2048)), ...versions }, '/users/1')).toBe(200);
    });
  });

  describe.each(HTTP_ADAPTERS)('%s: user-service at MTLS_SECURITY_LEVEL=3', (adapter) => {
    let app: RunningApp;
    beforeAll(async () => (app = await startUserService(pki, { MTLS_SECURITY_LEVEL: '3' }, adapter)));
    afterAll(() => app?.close());

    it.each([
      ['TLS 1.2', TLS12],
      ['TLS 1.3', TLS13],
    ])('refuses a 2048-bit RSA client certificate (level 3 needs 3072) over %s, and lets a 3072-bit one in', async (_v, versions) => {
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(2048)), ...versions }, '/users/1')).toBe('refused');
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(3072)), ...versions }, '/users/1')).toBe(200);
    });
  });

  describe('our own key at startup', () => {
    const weak = (extra: Partial<MtlsOptions> = {}) => pki.pemOptions(homePageRsa(1024), extra);

    /** The startup error; a server that starts anyway is closed and the test fails. */
    async function startupError(options: MtlsOptions): Promise<string> {
      let app: RunningApp;
      try {
        app = await startWithOptions(options, [PingController]);
      } catch (err) {
        return (err as Error).message;
      }
      await app.close();
      throw new Error('the server started');
    }

    it.each([
      ['with the default suites', {}],
      ['with the static-RSA suite TLS_RSA_WITH_AES_128_CBC_SHA over TLS 1.2', { supportedCipherSuites: ['TLS_RSA_WITH_AES_128_CBC_SHA'], supportedProtocols: ['TLSv1.2'] }],
    ])('a server with a 1024-bit RSA key does not start (%s), and the error names the setting, file and key', async (_what, extra) => {
      expect(await startupError(weak(extra))).toMatch(
        /^certPath: the key of CN=home-page-service in .*home-page-rsa-1024\.chain\.pem \+ .*home-page-rsa-1024\.key is 1024-bit RSA; securityLevel 2 needs RSA keys of at least 2048 bits or EC keys of at least P-256$/,
      );
    });

    it('a 2048-bit RSA key is refused at securityLevel 3, naming 3072', async () => {
      expect(await startupError(pki.pemOptions(homePageRsa(2048), { securityLevel: 3 }))).toMatch(
        /is 2048-bit RSA; securityLevel 3 needs RSA keys of at least 3072 bits/,
      );
    });

    it('a 2048-bit RSA key serves at the default level (control), and a static-RSA suite starts with a warning', async () => {
      const app = await startWithOptions(
        pki.pemOptions('rsa-user-service', { supportedCipherSuites: ['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] }),
        [PingController],
      );
      try {
        expect(app.logs.lines).toContainEqual(expect.stringMatching(/^WARN supportedCipherSuites: TLS_RSA_WITH_AES_128_CBC_SHA has no forward secrecy/));
        expect(await handshakeOutcome(app.port, { ...pki.clientTls('home-page-service'), ...TLS12, ciphers: 'AES128-SHA' }, '/ping')).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('refuses static-RSA suites at securityLevel 3, where OpenSSL would drop them silently', async () => {
      expect(
        await startupError(pki.pemOptions('rsa-user-service', { securityLevel: 3, supportedCipherSuites: ['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] })),
      ).toMatch(/^supportedCipherSuites: TLS_RSA_WITH_AES_128_CBC_SHA: no forward secrecy \(static RSA key exchange\), which securityLevel 3 forbids/);
    });
  });

  describe.each(HTTP_ADAPTERS)('%s: a server configured with TLS 1.3 suites only', (adapter) => {
    let app: RunningApp;
    beforeAll(async () => (app = await startWithOptions(pki.pemOptions('user-service', { supportedCipherSuites: ['TLS_AES_128_GCM_SHA256'] }), [PingController], [], adapter)));
    afterAll(() => app?.close());

    it('serves TLS 1.3 only (as Node does for such a list) and still applies the security level', async () => {
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(2048)), ...TLS13 }, '/ping')).toBe(200);
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(2048)), ...TLS12 }, '/ping')).toBe('refused');
      expect(await handshakeOutcome(app.port, { ...pki.clientTls(homePageRsa(1024)), ...TLS13, ...PRESENTS_WEAK_KEYS }, '/ping')).toBe('refused');
    });
  });

  describe('MtlsHttpClient', () => {
    async function upstream(name: string): Promise<number> {
      const cert = pki.certs[name].issued;
      // A weak upstream must lower its own level to serve its key at all on Node 24: the refusal tested is our client's.
      const server = createHttpsServer({ key: cert.keyPem, cert: cert.chainPem, ...PRESENTS_WEAK_KEYS }, (_req, res) => res.end('{"ok":true}'));
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    }

    function call(url: string, protocols: string[]): Promise<unknown> {
      return getJsonOnce({ keyStorePath: pki.certs['home-page-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, supportedProtocols: protocols }, url);
    }

    it.each([['TLSv1.2'], ['TLSv1.3']])('refuses an upstream with a CA-signed 1024-bit RSA key over %s (kind tls)', async (protocol) => {
      const err = await call(`https://localhost:${await upstream(homePageRsa(1024))}/`, [protocol]);
      expect(err).toBeInstanceOf(MtlsClientError);
      expect((err as MtlsClientError).kind).toBe('tls');
      expect((err as MtlsClientError).message).toMatch(/refused the certificate of https:\/\/localhost:\d+\/: the server's key is weaker than securityLevel 2 allows \(RSA below 2048 bits, EC below P-256\)/);
    });

    it.each([['TLSv1.2'], ['TLSv1.3']])('reads from an upstream with a 2048-bit RSA key over %s (control)', async (protocol) => {
      expect(await call(`https://localhost:${await upstream(homePageRsa(2048))}/`, [protocol])).toEqual({ ok: true });
    });
  });
});
