/** The loaded material works in a real mutual-TLS handshake on loopback. */
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { loadTlsMaterial } from 'nest-mtls/internal';
import type { LoadedTlsMaterial as TlsMaterial } from 'nest-mtls/internal';
import { requireTool } from '../support/require-tool';
import { buildToolMadeStores, PW, type ToolMadeStores } from '../support/test-pki';

const testKeytool = requireTool('keytool', 'the JKS handshake tests') ? test : test.skip;

let pki: ToolMadeStores;
beforeAll(() => {
  pki = buildToolMadeStores();
}, 180_000);
afterAll(() => pki?.cleanup());

interface Outcome {
  serverSawClient?: string;
  /** With rejectUnauthorized false: why the server did not authorize the client (e.g. CERT_REVOKED). */
  serverAuthorizationError?: string;
  serverError?: string;
  clientError?: string;
  clientAuthorized?: boolean;
}

/** One handshake against a server built from `m`; resolves once both ends are done and every handle is closed. */
async function handshake(
  m: TlsMaterial,
  client: { key: string; cert: string } | undefined,
  rejectUnauthorized = true,
): Promise<Outcome> {
  const out: Outcome = {};
  const server = tls.createServer({
    key: m.identity.keyPem,
    cert: m.identity.chain.map((c) => c.toString()).join(''),
    ca: m.trust.cas.map((c) => c.toString()),
    crl: m.crls?.map((c) => c.pem),
    requestCert: true,
    rejectUnauthorized,
  });
  server.on('secureConnection', (socket) => {
    if (socket.authorized) out.serverSawClient = socket.getPeerX509Certificate()?.subject;
    else out.serverAuthorizationError = String(socket.authorizationError);
    socket.end('hello');
  });
  server.on('tlsClientError', (err) => {
    out.serverError = err.message;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        ca: m.trust.cas.map((c) => c.toString()),
        ...(client ?? {}),
      });
      socket.on('secureConnect', () => {
        out.clientAuthorized = socket.authorized;
      });
      socket.on('data', () => undefined);
      socket.on('error', (err) => {
        out.clientError = err.message;
      });
      socket.on('close', () => resolve());
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return out;
}

const clientCert = () => ({ key: pki.read('client.key'), cert: pki.read('client.pem') });

test('PKCS#12 key store (EC), PEM trust bundle, 2 CRLs: handshake with a client of the same CA succeeds', async () => {
  const m = loadTlsMaterial({
    keyStorePath: pki.path('ec.p12'),
    keyStorePassword: PW,
    trustStorePath: pki.path('cas.pem'),
    crlPath: pki.path('crls.pem'),
  });
  expect(m.crls).toHaveLength(2);
  const out = await handshake(m, clientCert());
  expect(out.clientError).toBeUndefined();
  expect(out.serverError).toBeUndefined();
  expect(out.clientAuthorized).toBe(true);
  expect(out.serverSawClient).toContain('CN=home-page-service');
});

test('a client without a certificate, or from another CA, is refused in the handshake', async () => {
  const m = loadTlsMaterial({ keyStorePath: pki.path('ec.p12'), keyStorePassword: PW, trustStorePath: pki.path('cas.pem') });
  const none = await handshake(m, undefined);
  expect(none.serverSawClient).toBeUndefined();
  expect(none.serverError).toMatch(/did not return a certificate/);
  const stranger = await handshake(m, { key: pki.read('other.key'), cert: pki.read('stranger.pem') });
  expect(stranger.serverSawClient).toBeUndefined();
  expect(stranger.serverError).toBeDefined();
  const why = await handshake(m, { key: pki.read('other.key'), cert: pki.read('stranger.pem') }, false);
  expect(why.serverAuthorizationError).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
});

test('the CRLs are in effect: a revoked client is refused', async () => {
  const m = loadTlsMaterial({
    keyStorePath: pki.path('ec.p12'),
    keyStorePassword: PW,
    trustStorePath: pki.path('cas.pem'),
    crlPath: pki.path('crls-client-revoked.pem'),
  });
  expect(m.crls![1].crl.revokedCount).toBe(1);
  const out = await handshake(m, clientCert());
  expect(out.serverSawClient).toBeUndefined();
  expect(out.serverError).toBeDefined();
  const why = await handshake(m, clientCert(), false);
  expect(why.serverAuthorizationError).toBe('CERT_REVOKED');
});

testKeytool('JKS key store (RSA) and JKS trust store: handshake succeeds', async () => {
  const m = loadTlsMaterial({
    keyStorePath: pki.path('rsa.jks'),
    keyStorePassword: PW,
    trustStorePath: pki.path('trust.jks'),
    trustStorePassword: PW,
    crlPath: pki.path('crls.pem'),
  });
  const out = await handshake(m, clientCert());
  expect(out.clientError).toBeUndefined();
  expect(out.serverError).toBeUndefined();
  expect(out.clientAuthorized).toBe(true);
  expect(out.serverSawClient).toContain('CN=home-page-service');
});

testKeytool('EC JKS key store: handshake succeeds', async () => {
  const m = loadTlsMaterial({ keyStorePath: pki.path('ec.jks'), keyStorePassword: PW, trustStorePath: pki.path('cas.pem') });
  const out = await handshake(m, clientCert());
  expect(out.clientAuthorized).toBe(true);
  expect(out.serverSawClient).toContain('CN=home-page-service');
});
