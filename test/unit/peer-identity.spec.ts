import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer as netCreateServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { ClientIdentity } from 'nest-mtls/identity/client-identity.interface';
import { cachedIdentityCount, peerCertificateState, peerIdentity, type PeerCertificateState } from 'nest-mtls/identity/peer-identity';
import { requireTool } from '../support/require-tool';

const describeOpenssl = requireTool('openssl', 'the peer identity tests (certificates made with openssl)') ? describe : describe.skip;

interface Seen {
  authorized: boolean;
  verified: ClientIdentity | undefined;
  verifiedAgain: ClientIdentity | undefined;
  state: PeerCertificateState;
  stateAgain: PeerCertificateState;
  cachedBefore: number;
  cachedAfter: number;
}

describeOpenssl('peerIdentity on a real TLS server', () => {
  let dir: string;
  let server: Server;
  let port: number;
  const pem = (name: string) => readFileSync(join(dir, name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'peer-identity-'));
    const cnf = join(dir, 'openssl.cnf');
    writeFileSync(
      cnf,
      '[req]\ndistinguished_name = dn\n[dn]\n' +
        '[ca]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n' +
        '[leaf]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth,serverAuth\n' +
        'subjectAltName = DNS:localhost,IP:127.0.0.1,URI:spiffe://example.org/client\n',
    );
    const env = { ...process.env, OPENSSL_CONF: cnf };
    const run = (...args: string[]) => execFileSync('openssl', args, { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const key = (name: string) => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
    key('ca.key');
    run('req', '-x509', '-config', cnf, '-extensions', 'ca', '-key', 'ca.key', '-subj', '/O=Test/CN=Test CA', '-days', '1', '-out', 'ca.pem');
    for (const [name, cn] of [['server', 'localhost'], ['client', 'home-page-service']]) {
      key(`${name}.key`);
      run('req', '-new', '-config', cnf, '-key', `${name}.key`, '-subj', `/O=Test/CN=${cn}`, '-out', `${name}.csr`);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
        '-extfile', cnf, '-extensions', 'leaf', '-out', `${name}.pem`);
    }
    key('rogue.key');
    run('req', '-x509', '-config', cnf, '-extensions', 'leaf', '-key', 'rogue.key', '-subj', '/O=Test/CN=home-page-service', '-days', '1', '-out', 'rogue.pem');

    server = createServer({
      key: pem('server.key'),
      cert: pem('server.pem'),
      ca: pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: false,
    });
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
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function exchange(clientKey: string, clientCert: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pem('ca.pem'), key: pem(clientKey), cert: pem(clientCert) });
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
    await expect(exchange('client.key', 'client.pem')).resolves.toEqual({
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
    await expect(exchange('rogue.key', 'rogue.pem')).resolves.toEqual({
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
