/**
 * The dev/test PKI, checked with independent tools: the openssl CLI, Java's
 * keytool, and a real TLS handshake in Node (OpenSSL underneath).
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ensureDevPki, initPki, issueIntoPki, loadIssuedCertificate, type PkiLayout } from 'nest-mtls/dev-pki';
import { createCrl, createIntermediateCa, createRootCa, issueCertificate, toPkcs12, type IssuedCertificate } from 'nest-mtls/testing';
import { requireTool } from '../support/require-tool';
import { keytool, openssl, opensslOk, opensslSubject, TempDir } from '../support/test-pki';

function splitPem(pem: string, label: string): string[] {
  return pem.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----\\n?`, 'g')) ?? [];
}

const itKeytool = requireTool('keytool', "the Java PKCS#12 check") ? it : it.skip;

let work: TempDir;
let pki: PkiLayout;
let n = 0;

/** Writes text to a fresh file in the work dir and returns its path. */
const file = (name: string, content: string | Buffer): string => work.write(`${n++}-${name}`, content);

beforeAll(async () => {
  work = new TempDir('nest-mtls-pki-');
  pki = await initPki(work.path('pki'));
});
afterAll(() => work?.cleanup());

describe('initPki', () => {
  it('writes the CA files, trust store, CRLs and one file set per service, keys 0600', () => {
    const files = fs.readdirSync(pki.dir).sort();
    for (const f of ['root-ca.crt', 'root-ca.key', 'global-ca.crt', 'global-ca.key', 'truststore.pem', 'crl.pem']) {
      expect(files).toContain(f);
    }
    for (const s of ['user-service', 'home-page-service', 'event-service']) {
      for (const ext of ['crt', 'key', 'chain.pem', 'p12']) expect(files).toContain(`${s}.${ext}`);
      expect(pki.service(s).p12).toBe(path.join(pki.dir, `${s}.p12`));
      expect(fs.statSync(pki.service(s).key).mode & 0o777).toBe(0o600);
    }
    expect(fs.statSync(path.join(pki.dir, 'root-ca.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(pki.dir, 'global-ca.key')).mode & 0o777).toBe(0o600);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const trust = splitPem(fs.readFileSync(pki.trustStore, 'utf8'), 'CERTIFICATE');
    expect(trust).toHaveLength(1);
    expect(new X509Certificate(trust[0]).fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.rootCa)).fingerprint256);
    const chain = splitPem(fs.readFileSync(pki.service('user-service').chain, 'utf8'), 'CERTIFICATE');
    expect(chain).toHaveLength(2);
    expect(opensslSubject(file('c1.pem', chain[1]))).toBe('CN=nest-mtls Global CA,O=nest-mtls');
  });

  it('makes leaves that openssl verifies against the root (global CA untrusted), and not against another root', async () => {
    for (const s of ['user-service', 'home-page-service', 'event-service']) {
      const out = opensslOk(['verify', '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, pki.service(s).cert]);
      expect(out).toContain(': OK');
    }
    const otherRoot = await createRootCa({ subject: 'CN=Other Root' });
    const r = openssl(['verify', '-CAfile', file('other-root.pem', otherRoot.certPem), '-untrusted', pki.globalCa, pki.service('user-service').cert]);
    expect(r.status).not.toBe(0);
    const stranger = await issueCertificate(otherRoot, { subject: 'CN=stranger' });
    const r2 = openssl(['verify', '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, file('stranger.pem', stranger.certPem)]);
    expect(r2.status).not.toBe(0);
  });

  it('puts the expected extensions in leaves and CAs', () => {
    const leaf = opensslOk(['x509', '-in', pki.service('home-page-service').cert, '-noout', '-ext', 'extendedKeyUsage,subjectAltName,basicConstraints,keyUsage']);
    expect(leaf).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(leaf).toContain('DNS:home-page-service, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(leaf).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(leaf).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(opensslSubject(pki.service('home-page-service').cert)).toBe('CN=home-page-service,O=nest-mtls');

    const global = opensslOk(['x509', '-in', pki.globalCa, '-noout', '-ext', 'basicConstraints,keyUsage,subjectKeyIdentifier']);
    expect(global).toMatch(/CA:TRUE, pathlen:0/);
    expect(global).toMatch(/Certificate Sign, CRL Sign/);
    const leafAki = opensslOk(['x509', '-in', pki.service('home-page-service').cert, '-noout', '-ext', 'authorityKeyIdentifier']);
    const globalSki = global.match(/Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/)![1];
    expect(leafAki).toContain(globalSki);
    expect(opensslOk(['x509', '-in', pki.rootCa, '-noout', '-ext', 'basicConstraints'])).toMatch(/critical\s+CA:TRUE\n/);
  });

  it('refuses to overwrite an existing PKI unless forced', async () => {
    const dir = work.path('force');
    await initPki(dir, { services: ['a'] });
    const before = new X509Certificate(fs.readFileSync(path.join(dir, 'root-ca.crt'))).fingerprint256;
    await expect(initPki(dir, { services: ['a'] })).rejects.toThrow(/already holds a PKI/);
    await initPki(dir, { services: ['a'], force: true });
    expect(new X509Certificate(fs.readFileSync(path.join(dir, 'root-ca.crt'))).fingerprint256).not.toBe(before);
  });

  it('rejects service names that are not plain file names', async () => {
    await expect(initPki(work.path('bad'), { services: ['../evil'] })).rejects.toThrow(/invalid service name/);
  });
});

describe('subjects (RFC 4514, most specific first) as openssl prints them', () => {
  const subjects = [
    'CN=user-service,O=nest-mtls',
    'CN=a\\,O=Example,O=nest-mtls',
    'CN=a+OU=b,O=c',
    'OU=b+CN=a,O=c',
    'CN=\\#1 \\"q\\" \\<x\\>\\;y\\\\z\\+w=v,O=n',
    'CN=Zoë ☃,OU=u1,OU=u2,O=o,L=Berlin,ST=BE,C=DE',
    'UID=joe,emailAddress=joe@example.com,DC=example,DC=com',
  ];
  it.each(subjects)('%s', async (subject) => {
    const root = await createRootCa({ subject: 'CN=Subjects Root' });
    const leaf = await issueCertificate(root, { subject });
    expect(opensslSubject(file('subject.pem', leaf.certPem))).toBe(subject);
  });

  it('rejects an empty or unparsable subject', async () => {
    await expect(createRootCa({ subject: '' })).rejects.toThrow(/subject/);
    for (const bad of ['nonsense', 'CN=a,junk', 'CN=a,,O=b', '=x']) await expect(createRootCa({ subject: bad })).rejects.toThrow(/invalid subject/);
  });
});

describe('certificate factory', () => {
  let root: IssuedCertificate;
  let global: IssuedCertificate;
  beforeAll(async () => {
    root = await createRootCa({ subject: 'CN=Factory Root,O=nest-mtls' });
    global = await createIntermediateCa(root, { subject: 'CN=Factory Global,O=nest-mtls' });
  });

  it('returns chains without the root, and key/cert that match', async () => {
    const leaf = await issueCertificate(global, { subject: 'CN=x' });
    expect(root.chain.map((c) => c.fingerprint256)).toEqual([root.certificate.fingerprint256]);
    expect(global.chain.map((c) => c.fingerprint256)).toEqual([global.certificate.fingerprint256]);
    expect(leaf.chain.map((c) => c.fingerprint256)).toEqual([leaf.certificate.fingerprint256, global.certificate.fingerprint256]);
    expect(leaf.chainPem).toBe(leaf.certPem + global.certPem);
    expect(leaf.certificate.checkPrivateKey(leaf.key)).toBe(true);
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const direct = await issueCertificate(root, { subject: 'CN=direct' });
    expect(direct.chain).toHaveLength(1);
  });

  it('honours SANs, EKU choices, serial number and CRL distribution points', async () => {
    const leaf = await issueCertificate(global, {
      subject: 'CN=spiffe-client',
      uri: ['spiffe://nest-mtls.test/ns/default/sa/client'],
      email: ['ops@example.com'],
      dns: ['client.internal'],
      ip: ['10.1.2.3', '2001:db8::1'],
      extendedKeyUsage: ['clientAuth'],
      serialNumber: '0badcafe',
      crlDistributionPoints: ['http://crl.example.com/global.crl'],
    });
    const text = opensslOk(['x509', '-in', file('san.pem', leaf.certPem), '-noout', '-serial', '-ext', 'extendedKeyUsage,subjectAltName,crlDistributionPoints']);
    expect(text).toContain('serial=0BADCAFE');
    expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).toContain('DNS:client.internal, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1, URI:spiffe://nest-mtls.test/ns/default/sa/client, email:ops@example.com');
    expect(text).toContain('URI:http://crl.example.com/global.crl');

    const noEku = await issueCertificate(global, { subject: 'CN=no-eku', extendedKeyUsage: [] });
    expect(opensslOk(['x509', '-in', file('noeku.pem', noEku.certPem), '-noout', '-text'])).not.toContain('Extended Key Usage');
  });

  it('makes expired and not-yet-valid certificates that openssl refuses', async () => {
    const day = 24 * 3600 * 1000;
    const expired = await issueCertificate(global, { subject: 'CN=expired', notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) });
    const r = openssl(['verify', '-CAfile', file('r.pem', root.certPem), '-untrusted', file('g.pem', global.certPem), file('expired.pem', expired.certPem)]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('certificate has expired');
    const future = await issueCertificate(global, { subject: 'CN=future', notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 10 * day) });
    const r2 = openssl(['verify', '-CAfile', file('r.pem', root.certPem), '-untrusted', file('g.pem', global.certPem), file('future.pem', future.certPem)]);
    expect(r2.status).not.toBe(0);
    expect(r2.out).toContain('certificate is not yet valid');
  });

  it('signs an RSA leaf with an EC CA (mixed) and sets keyEncipherment for RSA', async () => {
    const leaf = await issueCertificate(global, { subject: 'CN=rsa', keyAlgorithm: 'rsa' });
    const f = file('rsa.pem', leaf.certPem);
    expect(opensslOk(['x509', '-in', f, '-noout', '-text'])).toContain('rsaEncryption');
    expect(opensslOk(['x509', '-in', f, '-noout', '-ext', 'keyUsage'])).toContain('Digital Signature, Key Encipherment');
    expect(opensslOk(['verify', '-CAfile', file('r.pem', root.certPem), '-untrusted', file('g.pem', global.certPem), f])).toContain(': OK');
  });
});

describe('CRLs', () => {
  it('writes one empty CRL of the root and one of the global CA into crl.pem, both verified by openssl', () => {
    const crls = splitPem(fs.readFileSync(pki.crl, 'utf8'), 'X509 CRL');
    expect(crls).toHaveLength(2);
    const rootCrl = opensslOk(['crl', '-in', file('root.crl', crls[0]), '-CAfile', pki.rootCa, '-verify', '-noout', '-text', '-nameopt', 'RFC2253']);
    expect(rootCrl).toContain('verify OK');
    expect(rootCrl).toContain('Issuer: CN=nest-mtls Root CA,O=nest-mtls');
    expect(rootCrl).toContain('No Revoked Certificates');
    expect(rootCrl).toMatch(/X509v3 CRL Number/);
    expect(rootCrl).toMatch(/X509v3 Authority Key Identifier/);
    const globalCrl = opensslOk(['crl', '-in', file('global.crl', crls[1]), '-CAfile', pki.globalCa, '-verify', '-noout', '-text', '-nameopt', 'RFC2253']);
    expect(globalCrl).toContain('verify OK');
    expect(globalCrl).toContain('Issuer: CN=nest-mtls Global CA,O=nest-mtls');
    // With both CRLs, openssl checks every CA in the chain: all good.
    expect(opensslOk(['verify', '-crl_check_all', '-CRLfile', pki.crl, '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, pki.service('user-service').cert])).toContain(': OK');
  });

  it('lists revoked serials, which openssl then refuses', async () => {
    const global = await loadIssuedCertificate(pki.globalCa, path.join(pki.dir, 'global-ca.key'));
    const files = await issueIntoPki(pki.dir, { name: 'to-revoke', subject: 'CN=to-revoke,O=nest-mtls' });
    const serial = new X509Certificate(fs.readFileSync(files.cert)).serialNumber;
    const crl = await createCrl(global, { revoked: [{ serialNumber: serial }, { serialNumber: '0BADCAFE', reason: 'keyCompromise' }] });
    const crlFile = file('revoked.crl', crl);
    const text = opensslOk(['crl', '-in', crlFile, '-CAfile', pki.globalCa, '-verify', '-noout', '-text']);
    expect(text).toContain('verify OK');
    expect(text).toContain(`Serial Number: ${serial}`);
    expect(text).toContain('Key Compromise');
    const rootCrl = splitPem(fs.readFileSync(pki.crl, 'utf8'), 'X509 CRL')[0];
    const both = file('both.crl', rootCrl + crl);
    const r = openssl(['verify', '-crl_check_all', '-CRLfile', both, '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, files.cert]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('certificate revoked');
    expect(openssl(['verify', '-crl_check_all', '-CRLfile', both, '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, pki.service('user-service').cert]).status).toBe(0);
  });
});

describe('PKCS#12', () => {
  it('is read by openssl pkcs12 (PBES2/AES-256-CBC, SHA-256 MAC) and holds the matching key, the chain and the alias', () => {
    const p12 = pki.service('user-service').p12;
    const info = opensslOk(['pkcs12', '-in', p12, '-passin', 'pass:changeit', '-nodes', '-info']);
    expect(info).toContain('MAC: sha256');
    expect(info).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
    expect(info).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
    expect(info).toContain('friendlyName: user-service');
    const keys = splitPem(info, 'PRIVATE KEY');
    const certs = splitPem(info, 'CERTIFICATE');
    expect(keys).toHaveLength(1);
    expect(certs).toHaveLength(2);
    expect(new X509Certificate(certs[0]).fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.service('user-service').cert)).fingerprint256);
    expect(new X509Certificate(certs[1]).fingerprint256).toBe(new X509Certificate(fs.readFileSync(pki.globalCa)).fingerprint256);
    // key match, by openssl: the public key of the extracted key equals the certificate's
    const pubFromKey = opensslOk(['pkey', '-in', file('k.pem', keys[0]), '-pubout']);
    const pubFromCert = opensslOk(['x509', '-in', pki.service('user-service').cert, '-noout', '-pubkey']);
    expect(pubFromKey).toBe(pubFromCert);
    expect(openssl(['pkcs12', '-in', p12, '-passin', 'pass:wrong', '-nodes', '-noout']).status).not.toBe(0);
  });

  it('is read by Node (tls.createSecureContext pfx)', () => {
    expect(() => tls.createSecureContext({ pfx: fs.readFileSync(pki.service('event-service').p12), passphrase: 'changeit' })).not.toThrow();
  });

  itKeytool('is listed by keytool as a PrivateKeyEntry under the alias', () => {
    const out = keytool(['-list', '-v', '-keystore', pki.service('home-page-service').p12, '-storetype', 'PKCS12', '-storepass', 'changeit']);
    expect(out).toMatch(/Alias name: home-page-service\n/);
    expect(out).toContain('Entry type: PrivateKeyEntry');
    expect(out).toContain('Certificate chain length: 2');
  });

  it('honours a custom password and alias via toPkcs12', async () => {
    const root = await createRootCa({ subject: 'CN=P12 Root' });
    const leaf = await issueCertificate(root, { subject: 'CN=p12' });
    const p12 = file('custom.p12', await toPkcs12(leaf, 'sécret pw', { alias: 'my alias' }));
    const info = opensslOk(['pkcs12', '-in', p12, '-passin', 'pass:sécret pw', '-nodes', '-info']);
    expect(info).toContain('friendlyName: my alias');
    expect(splitPem(info, 'CERTIFICATE')).toHaveLength(1);
  });
});

describe('TLS handshake over loopback with the dev PKI', () => {
  /** What the server saw: a secure connection (authorized or not, and why) or a failed handshake. */
  type Outcome = { connected: true; authorized: boolean; authorizationError?: string; peerSubject?: string } | { connected: false; error: string };

  /**
   * mTLS server (truststore + the CRLs) and one client sending its chain; the
   * server's view decides. With `reject` (the real setting) a refused client
   * fails the handshake; Node then reports only "socket hang up", so the
   * reason is read with `reject: false` from `authorizationError`.
   */
  async function handshake(clientChain: string, clientKey: string, crlPems: string[], reject = true): Promise<Outcome> {
    const serverFiles = pki.service('user-service');
    const server = tls.createServer({
      key: fs.readFileSync(serverFiles.key),
      cert: fs.readFileSync(serverFiles.chain),
      ca: fs.readFileSync(pki.trustStore),
      crl: crlPems,
      requestCert: true,
      rejectUnauthorized: reject,
    });
    const outcome = new Promise<Outcome>((resolve) => {
      server.on('secureConnection', (socket) => {
        resolve({
          connected: true,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          peerSubject: socket.getPeerX509Certificate()?.subject,
        });
        socket.end('hello');
      });
      server.on('tlsClientError', (err) => resolve({ connected: false, error: err.message }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: fs.readFileSync(pki.trustStore),
      cert: fs.readFileSync(clientChain),
      key: fs.readFileSync(clientKey),
    });
    client.on('error', () => undefined);
    client.on('data', () => undefined);
    try {
      return await outcome;
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('accepts a service certificate and refuses a revoked one', async () => {
    const crls = splitPem(fs.readFileSync(pki.crl, 'utf8'), 'X509 CRL');
    expect(crls).toHaveLength(2);
    const home = pki.service('home-page-service');
    const ok = await handshake(home.chain, home.key, crls);
    expect(ok).toEqual({ connected: true, authorized: true, authorizationError: undefined, peerSubject: 'O=nest-mtls\nCN=home-page-service' });

    const revoked = await issueIntoPki(pki.dir, { name: 'revoked-client', subject: 'CN=revoked-client,O=nest-mtls', extendedKeyUsage: ['clientAuth'] });
    const global = await loadIssuedCertificate(pki.globalCa, path.join(pki.dir, 'global-ca.key'));
    const globalCrl = await createCrl(global, { revoked: [{ serialNumber: new X509Certificate(fs.readFileSync(revoked.cert)).serialNumber }] });
    const refused = await handshake(revoked.chain, revoked.key, [crls[0], globalCrl]);
    expect(refused.connected).toBe(false);
    const why = await handshake(revoked.chain, revoked.key, [crls[0], globalCrl], false);
    expect(why).toMatchObject({ connected: true, authorized: false, authorizationError: 'CERT_REVOKED' });
    // the same client without the revocation gets in
    expect(await handshake(revoked.chain, revoked.key, crls)).toMatchObject({ connected: true, authorized: true });
  });

  it('refuses a certificate from another root', async () => {
    const otherRoot = await createRootCa({ subject: 'CN=Other Root' });
    const stranger = await issueCertificate(otherRoot, { subject: 'CN=stranger', extendedKeyUsage: ['clientAuth'] });
    const crls = splitPem(fs.readFileSync(pki.crl, 'utf8'), 'X509 CRL');
    const out = await handshake(file('s.crt', stranger.chainPem), file('s.key', stranger.keyPem), crls);
    expect(out.connected).toBe(false);
    const why = await handshake(file('s.crt', stranger.chainPem), file('s.key', stranger.keyPem), crls, false);
    expect(why).toMatchObject({ connected: true, authorized: false });
  });
});

describe('issueIntoPki', () => {
  it('issues one more leaf from the global CA, same file set, readable p12', async () => {
    const files = await issueIntoPki(pki.dir, {
      name: 'batch-job',
      subject: 'CN=batch-job,OU=jobs,O=nest-mtls',
      uri: ['spiffe://nest-mtls.test/batch-job'],
      extendedKeyUsage: ['clientAuth'],
      password: 'other',
    });
    expect(files).toEqual(pki.service('batch-job'));
    expect(opensslSubject(files.cert)).toBe('CN=batch-job,OU=jobs,O=nest-mtls');
    expect(opensslOk(['verify', '-CAfile', pki.trustStore, '-untrusted', pki.globalCa, files.cert])).toContain(': OK');
    expect(splitPem(fs.readFileSync(files.chain, 'utf8'), 'CERTIFICATE')).toHaveLength(2);
    expect(fs.statSync(files.key).mode & 0o777).toBe(0o600);
    expect(opensslOk(['pkcs12', '-in', files.p12, '-passin', 'pass:other', '-nodes', '-info'])).toContain('friendlyName: batch-job');
    expect(createPublicKey(createPrivateKey(fs.readFileSync(files.key))).export({ format: 'pem', type: 'spki' })).toBe(
      new X509Certificate(fs.readFileSync(files.cert)).publicKey.export({ format: 'pem', type: 'spki' }),
    );
  });

  it('fails with a clear message when the directory is no PKI', async () => {
    await expect(issueIntoPki(work.path('nothing-here'), { name: 'x', subject: 'CN=x' })).rejects.toThrow(/is not a dev PKI \(missing root-ca.crt/);
  });
});

describe('ensureDevPki', () => {
  it('creates one consistent PKI when called three times at once, and reuses it afterwards', async () => {
    const dir = work.path('shared', 'dev-pki');
    const layouts = await Promise.all([ensureDevPki(dir), ensureDevPki(dir), ensureDevPki(dir)]);
    expect(new Set(layouts.map((l) => l.dir))).toEqual(new Set([dir]));
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['dev-pki']); // the losers' temp dirs are gone
    const rootPrint = new X509Certificate(fs.readFileSync(layouts[0].rootCa)).fingerprint256;
    for (const s of ['user-service', 'home-page-service', 'event-service']) {
      expect(opensslOk(['verify', '-CAfile', layouts[0].trustStore, '-untrusted', layouts[0].globalCa, layouts[0].service(s).cert])).toContain(': OK');
      const chain = splitPem(fs.readFileSync(layouts[0].service(s).chain, 'utf8'), 'CERTIFICATE');
      expect(chain[1]).toBe(fs.readFileSync(layouts[0].globalCa, 'utf8'));
    }
    const again = await ensureDevPki(dir);
    expect(new X509Certificate(fs.readFileSync(again.rootCa)).fingerprint256).toBe(rootPrint);
    expect(again.password).toBe('changeit');
  });

  it('refuses a non-empty directory that is not a complete PKI', async () => {
    const dir = work.path('half');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'root-ca.crt'), 'x');
    await expect(ensureDevPki(dir)).rejects.toThrow(/not a complete dev PKI/);
  });
});
