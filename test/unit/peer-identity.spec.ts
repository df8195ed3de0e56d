import { connect as netConnect, createServer as netCreateServer, type AddressInfo, type Socket } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { ClientIdentity } from 'nest-mtls/internal';
import { cachedIdentityCount, peerCertificateState, peerIdentity, type PeerCertificateState } from 'nest-mtls/internal';
import { TestPki } from '../support/test-pki';

interface Seen {
  authorized: boolean;
  verified: ClientIdentity | undefined;
  verifiedAgain: ClientIdentity | undefined;
  state: PeerCertificateState;
  stateAgain: PeerCertificateState;
  cachedBefore: number;
  cachedAfter: number;
}

describe('peerIdentity on a real TLS server', () => {
  let pki: TestPki;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('client', { subject: 'CN=home-page-service,O=Test', uri: ['spiffe://example.org/client'] });
    await pki.selfSigned('rogue', { subject: 'CN=home-page-service,O=Test' });
    const own = pki.certs['user-service'].issued;
    server = createServer({ key: own.keyPem, cert: own.chainPem, ca: pki.root.certPem, requestCert: true, rejectUnauthorized: false });
    server.on('secureConnection', (socket: TLSSocket) => {
      const cachedBefore = cachedIdentityCount();
      const seen: Seen = {
        authorized: socket.authorized,
        verified: peerIdentity(socket),
        verifiedAgain: peerIdentity(socket),
        state: peerCertificateState(socket),
        stateAgain: peerCertificateState(socket),
        cachedBefore,
        cachedAfter: cachedIdentityCount(),
      };
      socket.end(JSON.stringify({
        authorized: seen.authorized,
        verifiedSubject: seen.verified?.subject ?? null,
        verifiedCommonName: seen.verified?.commonName ?? null,
        spiffeId: seen.verified?.spiffeId ?? null,
        sameVerified: seen.verified !== undefined && seen.verified === seen.verifiedAgain,
        sameState: seen.state === seen.stateAgain,
        status: seen.state.status,
        presentedSubject: seen.state.status === 'unverified' ? seen.state.subject : null,
        unverifiedReason: seen.state.status === 'unverified' ? seen.state.reason : null,
        cachedIdentities: seen.cachedAfter - seen.cachedBefore,
      }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    pki?.cleanup();
  });

  function exchange(name: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...pki.clientTls(name) });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (data += chunk));
      socket.on('end', () => {
        socket.end();
        resolve(JSON.parse(data) as Record<string, unknown>);
      });
      socket.on('error', reject);
    });
  }

  test('a client certificate signed by the trusted CA gives its identity, cached per socket', async () => {
    await expect(exchange('client')).resolves.toEqual({
      authorized: true,
      verifiedSubject: 'CN=home-page-service,O=Test',
      verifiedCommonName: 'home-page-service',
      spiffeId: 'spiffe://example.org/client',
      sameVerified: true,
      sameState: true,
      status: 'verified',
      presentedSubject: null,
      unverifiedReason: null,
      cachedIdentities: 1,
    });
  });

  test('an untrusted self-signed certificate gives no identity and nothing cached: only OpenSSL\'s rendering of its subject, for the log', async () => {
    await expect(exchange('rogue')).resolves.toEqual({
      authorized: false,
      verifiedSubject: null,
      verifiedCommonName: null,
      spiffeId: null,
      sameVerified: false,
      sameState: true,
      status: 'unverified',
      presentedSubject: 'CN=home-page-service,O=Test',
      unverifiedReason: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      cachedIdentities: 0,
    });
  });

  test('a plain TCP socket (and nothing at all) gives undefined, without throwing', async () => {
    const plain = netCreateServer();
    const accepted = new Promise<Socket>((resolve) => plain.once('connection', resolve));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const client = netConnect((plain.address() as AddressInfo).port, '127.0.0.1');
    const serverSide = await accepted;
    try {
      expect(peerIdentity(serverSide)).toBeUndefined();
      expect(peerCertificateState(serverSide)).toEqual({ status: 'none' });
      expect(peerIdentity(client)).toBeUndefined();
      expect(peerIdentity(undefined)).toBeUndefined();
    } finally {
      client.destroy();
      serverSide.destroy();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});
