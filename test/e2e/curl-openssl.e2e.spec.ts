import { sClient } from '../support/openssl-client';
import { HTTP_ADAPTERS, startUserService, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { requireTool } from '../support/require-tool';
import { run } from '../support/tls-probe';

const describeCurl = requireTool('curl', 'the curl checks') ? describe : describe.skip;
const describeOpenssl = requireTool('openssl', 'the openssl s_client checks') ? describe : describe.skip;

/**
 * The article's checks with the tools a person would use: curl and
 * openssl s_client against user-service on loopback.
 */
describe.each(HTTP_ADAPTERS)('%s: user-service seen by curl and openssl s_client', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserService(pki, { MTLS_CRL_PATH: pki.crlAll }, adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  const url = (path: string) => `https://localhost:${svc.port}${path}`;
  const curl = (...args: string[]) => run('curl', ['-sS', '--max-time', '10', ...args]);
  const as = (name: string) => ['--cacert', pki.trustStore, '--cert', pki.certs[name].chain, '--key', pki.certs[name].key];

  describeCurl('curl', () => {
    it('plain HTTP to the TLS port: no HTTP answer', async () => {
      const r = await curl(`http://localhost:${svc.port}/health`);
      expect(r.code).not.toBe(0);
      expect([52, 56]).toContain(r.code); // empty reply / connection reset
      expect(r.stdout).toBe('');
    });

    it('HTTPS with the public roots: our server certificate is not trusted', async () => {
      const r = await curl(url('/health'));
      expect(r.code).toBe(60);
    });

    it('trusting our root but without a client certificate: refused in TLS', async () => {
      const r = await curl('--cacert', pki.trustStore, url('/health'));
      expect([35, 56]).toContain(r.code);
      expect(r.stdout).toBe('');
    });

    it('home-page-service certificate: 200 with the user', async () => {
      const r = await curl(...as('home-page-service'), '-w', '\n%{http_code}', url('/users/1'));
      expect(r.code).toBe(0);
      const [body, status] = r.stdout.split('\n');
      expect(status).toBe('200');
      expect(JSON.parse(body)).toMatchObject({ id: 1, name: 'Ada Lovelace' });
    });

    it('event-service certificate: 403 JSON', async () => {
      const r = await curl(...as('event-service'), '-w', '\n%{http_code}', url('/users/1'));
      const [body, status] = r.stdout.split('\n');
      expect(status).toBe('403');
      expect(JSON.parse(body)).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    });

    it('TLS 1.1 at most: refused', async () => {
      const r = await curl(...as('home-page-service'), '--tlsv1.1', '--tls-max', '1.1', url('/health'));
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
    });
  });

  describeOpenssl('openssl s_client', () => {
    const base = () => ['-connect', `127.0.0.1:${svc.port}`, '-servername', 'localhost', '-CAfile', pki.trustStore];
    // -cert takes the leaf; -cert_chain sends the intermediate too (the trust store holds only the root).
    const withCert = (name: string) => ['-cert', pki.certs[name].cert, '-cert_chain', pki.certs[name].chain, '-key', pki.certs[name].key];
    const GET = 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

    it('with a trusted certificate over TLS 1.2: the HTTP answer comes back (the control case)', async () => {
      const r = await sClient([...base(), ...withCert('home-page-service'), '-tls1_2'], [GET]);
      expect(r.output).toMatch(/Verify return code: 0 \(ok\)/);
      expect(r.output).toMatch(/HTTP\/1\.1 200 OK/);
    });

    it('client-initiated renegotiation (R) ends the connection: no HTTP answer after it', async () => {
      const r = await sClient([...base(), ...withCert('home-page-service'), '-tls1_2'], ['R\n', GET]);
      expect(r.output).toMatch(/RENEGOTIATING/);
      expect(r.output).not.toMatch(/HTTP\/1\.1 200 OK/);
    });

    it('without a certificate: the server refuses (certificate required)', async () => {
      const r = await sClient(base(), [GET]);
      expect(r.output).not.toMatch(/HTTP\/1\.1 200 OK/);
      expect(r.output).toMatch(/alert certificate required|alert handshake failure|peer did not return a certificate/i);
    });

    it('TLS 1.1: no handshake', async () => {
      // SECLEVEL=0 lets OpenSSL 3 offer TLS 1.1 at all, so the refusal is the server's alert.
      const r = await sClient([...base(), ...withCert('home-page-service'), '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], [GET]);
      expect(r.output).not.toMatch(/HTTP\/1\.1 200 OK/);
      expect(r.output).toMatch(/alert protocol version/);
    });
  });
});
