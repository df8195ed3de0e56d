import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TestPki } from '../support/test-pki';

/** The run's test PKI (test/support/shared-pki.ts): made once, copied per TestPki, each with files of its own. */
describe('TestPki.create(): one PKI per run', () => {
  const made: TestPki[] = [];
  const create = async (options?: { fresh?: boolean }) => {
    const pki = await TestPki.create(options);
    made.push(pki);
    return pki;
  };
  afterAll(() => made.forEach((pki) => pki.cleanup()));

  it('runs under the globalSetup that names the run directory', () => {
    expect(process.env.NEST_MTLS_TEST_PKI_CACHE).toBeTruthy();
  });

  it('gives every call the same CAs and named certificates, with their keys, in a directory of its own', async () => {
    const a = await create();
    const b = await create();
    expect(b.dir).not.toBe(a.dir);
    expect(b.root.certPem).toBe(a.root.certPem);
    expect(b.global.keyPem).toBe(a.global.keyPem);
    expect(Object.keys(b.certs).sort()).toEqual(Object.keys(a.certs).sort());
    for (const [name, files] of Object.entries(b.certs)) {
      expect(files.issued.certPem).toBe(a.certs[name].issued.certPem);
      expect(files.issued.certificate.checkPrivateKey(files.issued.key)).toBe(true);
      for (const path of [files.cert, files.key, files.chain, files.p12]) {
        expect(path.startsWith(b.dir)).toBe(true);
        expect(existsSync(path)).toBe(true);
      }
    }
    expect(b.certs['user-service'].issued.chain.map((c) => c.subject)).toEqual([a.certs['user-service'].issued.certificate.subject, a.global.certificate.subject]);
    expect(b.certs['user-service'].issued.certificate.verify(b.global.certificate.publicKey)).toBe(true);
    for (const path of [b.trustStore, b.crlAll, b.crlRootOnly, b.crlExpired]) expect(path.startsWith(b.dir)).toBe(true);
    expect(readFileSync(b.crlAll, 'utf8')).toBe(readFileSync(a.crlAll, 'utf8'));
  });

  it('keeps files apart: a test that rewrites one changes no other TestPki', async () => {
    const a = await create();
    const b = await create();
    writeFileSync(a.crlAll, 'rewritten');
    expect(readFileSync(b.crlAll, 'utf8')).toContain('-----BEGIN X509 CRL-----');
    expect((await create()).read('crl.pem')).toContain('-----BEGIN X509 CRL-----');
  });

  it('issues from the shared CAs (their keys are read back), and { fresh: true } makes new CAs and keys', async () => {
    const a = await create();
    const extra = await a.issue('extra', { subject: 'CN=extra' });
    expect(extra.issued.certificate.verify(a.global.certificate.publicKey)).toBe(true);
    const fresh = await create({ fresh: true });
    expect(fresh.root.certPem).not.toBe(a.root.certPem);
    expect(fresh.certs['user-service'].issued.keyPem).not.toBe(a.certs['user-service'].issued.keyPem);
  });
});
