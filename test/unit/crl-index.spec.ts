import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MtlsConfigError } from 'nest-mtls';
import { createCrl, randomSerialNumber } from 'nest-mtls/testing';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { loadCrls } from 'nest-mtls/internal';
import { loadTlsMaterial } from 'nest-mtls/internal';
import { x509 } from 'nest-mtls/internal';
import { parseCrl } from 'nest-mtls/internal';
import { normalizeSerial } from 'nest-mtls/internal';
import { OPENSSL_CRL_MAX_BYTES, opensslChecksCrls } from 'nest-mtls/internal';
import { runStartupChecks } from 'nest-mtls/internal';
import { opensslCrl, type IndexEntry } from '../support/openssl-ca';
import { requireTool } from '../support/require-tool';
import { opensslOk, TestPki } from '../support/test-pki';
import { configProblem } from '../support/config-problem';

const describeOpenssl = requireTool('openssl', 'the CRL tests against openssl-made CRLs') ? describe : describe.skip;
const HOUR = 3600_000;

let pki: TestPki;
let caCert: string;
let caKey: string;

beforeAll(async () => {
  pki = await TestPki.create();
  caCert = pki.write('global-ca.crt', pki.global.certPem);
  caKey = pki.write('global-ca.key', pki.global.keyPem);
});
afterAll(() => pki?.cleanup());

function derOf(pemFile: string): Buffer {
  return Buffer.from(readFileSync(pemFile, 'latin1').replace(/-----[A-Z0-9 ]+-----/g, ''), 'base64');
}

async function startupProblem(material: ReturnType<typeof loadTlsMaterial>, options = {}): Promise<string> {
  try {
    await runStartupChecks(material, validateMtlsOptions({ trustStorePath: pki.trustStore, ...options }));
  } catch (err) {
    expect(err).toBeInstanceOf(MtlsConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an MtlsConfigError');
}

describeOpenssl('the CRL index, against CRLs made by openssl ca', () => {
  const entries = (n: number): IndexEntry[] =>
    Array.from({ length: n }, (_, i) => ({ serialNumber: randomSerialNumber(), revokedAt: new Date(Date.now() - (i + 1) * 1000), reason: i % 2 ? 'keyCompromise' : undefined }));

  it('finds exactly the serials and reasons openssl lists (differential)', () => {
    const made = entries(50);
    const file = opensslCrl(pki, 'small', caCert, caKey, made);
    const crl = parseCrl(derOf(file));
    const text = opensslOk(['crl', '-in', file, '-noout', '-text']);
    const listed = [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => normalizeSerial(m[1]));
    expect(listed).toHaveLength(50);
    expect(crl.revokedCount).toBe(50);
    for (const serial of listed) expect(crl.revokes(serial)).toBe(true);
    expect(crl.revokes(normalizeSerial(randomSerialNumber()))).toBe(false);
    expect(crl.revocationOf(made[1].serialNumber.toUpperCase())).toMatchObject({ serialNumber: normalizeSerial(made[1].serialNumber), reason: 'keyCompromise' });
    expect(crl.revocationOf(made[0].serialNumber)?.reason).toBeUndefined();
    expect(crl.issuer).toBe('CN=Test Global CA,O=nest-mtls test');
    expect(crl.crlNumber).toBe('1000'); // openssl's crlnumber file is hex
    expect(crl.verifiedBy(pki.global.certificate.publicKey)).toBe(true);
    expect(crl.verifiedBy(pki.root.certificate.publicKey)).toBe(false);
  });

  it('reads a CRL of 5,000 entries (the @peculiar/x509 parser stopped at about 2,000: asn1js allows 10,000 nodes)', () => {
    const file = opensslCrl(pki, 'medium', caCert, caKey, entries(5000));
    expect(() => new x509.X509Crl(readFileSync(file, 'utf8'))).toThrow();
    const [loaded] = loadCrls(file);
    expect(loaded.crl.revokedCount).toBe(5000);
  });

  // The 1 s target is measured by npm run bench (bench/revocation.js); under jest on a shared machine only a pathological regression is caught.
  it('loads a CRL of 100,000 entries from its file, in seconds at most', () => {
    const file = opensslCrl(pki, 'big', caCert, caKey, entries(100_000));
    const started = process.hrtime.bigint();
    const [loaded] = loadCrls(file);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(loaded.crl.revokedCount).toBe(100_000);
    expect(ms).toBeLessThan(5000);
  });

  it('a large CRL is not handed to OpenSSL by a server (it would verify it again in every handshake), but still by the outbound client', async () => {
    const big = opensslCrl(pki, 'large', caCert, caKey, entries(5000));
    const file = pki.write('large-with-root.pem', (await createCrl(pki.root)) + readFileSync(big, 'utf8'));
    const options = validateMtlsOptions({ ...pki.pemOptions('user-service'), crlPath: file });
    const material = loadTlsMaterial(options);
    await runStartupChecks(material, options);
    expect(material.crls![1].crl.der.length).toBeGreaterThan(OPENSSL_CRL_MAX_BYTES);
    expect(opensslChecksCrls(material, options)).toBe(false);
    expect(opensslChecksCrls(material, options, new Date(), Infinity)).toBe(true);
  });

  it('refuses a CRL whose signature was tampered with, and a truncated one', () => {
    const der = derOf(opensslCrl(pki, 'tamper', caCert, caKey, entries(3)));
    const tampered = Buffer.from(der);
    tampered[tampered.length - 5] ^= 0x01;
    expect(parseCrl(tampered).verifiedBy(pki.global.certificate.publicKey)).toBe(false);
    expect(() => parseCrl(der.subarray(0, der.length - 10))).toThrow(/runs past its container|truncated/);
  });
});

describe('the CRL number', () => {
  it('is read as hex whatever its size (asn1-schema gives large ones in decimal: 16777215 was reported for 0xffffff)', async () => {
    for (const n of [0xffffff, 0x1000000, 1_765_000_000]) {
      const pem = await createCrl(pki.global, { crlNumber: n });
      const der = Buffer.from(pem.toString().replace(/-----[A-Z0-9 ]+-----/g, ''), 'base64');
      expect(parseCrl(der).crlNumber).toBe(n.toString(16));
    }
  });
});

describe('CRLs nest-mtls does not half-apply', () => {
  async function crlWith(extension: x509.Extension): Promise<Buffer> {
    const { signingKey, signingAlgorithm } = await (await import('nest-mtls/internal')).importSigningKey(pki.global.key);
    const crl = await x509.X509CrlGenerator.create({
      issuer: new x509.X509Certificate(pki.global.certPem).subjectName,
      thisUpdate: new Date(Date.now() - HOUR),
      nextUpdate: new Date(Date.now() + HOUR),
      signingKey,
      signingAlgorithm,
      extensions: [extension],
    });
    return Buffer.from(crl.rawData);
  }

  it('refuses delta CRLs and unknown critical extensions, and reads unknown non-critical ones', async () => {
    expect(() => parseCrl(Buffer.from([0x30, 0x00]))).toThrow();
    const delta = await crlWith(new x509.Extension('2.5.29.27', true, Buffer.from([0x02, 0x01, 0x05])));
    expect(() => parseCrl(delta)).toThrow(/delta CRL/);
    const unknownCritical = await crlWith(new x509.Extension('1.2.3.4.5', true, Buffer.from([0x05, 0x00])));
    expect(() => parseCrl(unknownCritical)).toThrow(/unknown critical CRL extension 1\.2\.3\.4\.5/);
    const unknown = await crlWith(new x509.Extension('1.2.3.4.5', false, Buffer.from([0x05, 0x00])));
    expect(parseCrl(unknown).revokedCount).toBe(0);
  });
});

describe('CRL files at startup', () => {
  const options = (crlPath: string | string[]) => ({ ...pki.pemOptions('user-service'), crlPath });

  it('reads several files, and several CRLs per file', async () => {
    const rootOnly = pki.crlRootOnly;
    const globalOnly = await pki.writeCrls('global-only.pem', [pki.global]);
    const material = loadTlsMaterial(options([rootOnly, globalOnly]));
    expect(material.crls!.map((c) => c.crl.issuer)).toEqual(['CN=Test Root CA,O=nest-mtls test', 'CN=Test Global CA,O=nest-mtls test']);
    await runStartupChecks(material, validateMtlsOptions(options([rootOnly, globalOnly])));
    expect(material.crls!.map((c) => c.issuerCa?.subject)).toEqual([pki.root.certificate.subject, pki.global.certificate.subject]);
  });

  it('refuses a CRL of a CA we do not know, and a CRL whose signature is not its issuer\'s, naming the file', async () => {
    const stranger = await pki.writeCrls('stranger.pem', [pki.root], [pki.global], [pki.otherGlobal]);
    expect(await startupProblem(loadTlsMaterial(options(stranger)))).toBe(
      `crlPath: the CRL in ${stranger} (CRL 3 of 3) is issued by CN=Other Global CA,O=elsewhere, which is not a CA we know (trust store or our own chain): its signature cannot be checked`,
    );
    // Same issuer name as our global CA, signed by another key.
    const forged = Buffer.from(await createCrl({ ...pki.otherGlobal, certPem: pki.global.certPem }, {}));
    const forgedFile = pki.write('forged.pem', (await createCrl(pki.root)) + forged.toString());
    expect(await startupProblem(loadTlsMaterial(options(forgedFile)))).toBe(
      `crlPath: the signature of the CRL in ${forgedFile} (CRL 2 of 2) does not verify with the key of CA CN=Test Global CA`,
    );
  });

  it('with crlCheck chain every CA needs a CRL; with leaf it does not', async () => {
    expect(await startupProblem(loadTlsMaterial(options(pki.crlRootOnly)))).toMatch(/^crlPath: no CRL signed by CA CN=Test Global CA in .*crl-root-only\.pem: with crlCheck chain every CA in a chain needs one, or every client is refused$/);
    const globalOnly = await pki.writeCrls('global-only-2.pem', [pki.global]);
    const material = loadTlsMaterial(options(globalOnly));
    const leaf = validateMtlsOptions({ ...options(globalOnly), crlCheck: 'leaf' });
    await expect(runStartupChecks(material, leaf)).resolves.toEqual([]);
    expect(opensslChecksCrls(material, leaf)).toBe(false);
  });

  it('an expired CRL stops a closed service and only warns an open one; OpenSSL gets the CRLs only in the strict mode', async () => {
    const expired = loadTlsMaterial(options(pki.crlExpired));
    expect(await startupProblem(expired)).toMatch(/^crlPath: the CRL of CA CN=Test Global CA in .*crl-expired\.pem \(CRL 2 of 2\) expired on .*: every client would be refused$/);
    const open = validateMtlsOptions({ ...options(pki.crlExpired), revocationFailure: 'open' });
    const warnings = await runStartupChecks(expired, open);
    expect(warnings).toEqual([expect.stringMatching(/expired on .*; it is not applied until a current one is published \(revocationFailure open\)$/)]);
    expect(opensslChecksCrls(expired, open)).toBe(false);
    const all = loadTlsMaterial(options(pki.crlAll));
    const strict = validateMtlsOptions(options(pki.crlAll));
    await runStartupChecks(all, strict);
    expect(opensslChecksCrls(all, strict)).toBe(true);
    expect(opensslChecksCrls(all, { ...strict, revocationFailure: 'open' })).toBe(false);
  });

  it('warns when a CRL goes out of date within the hour, and refuses a CRL that revokes our own certificate', async () => {
    const soon = await pki.writeCrls('soon.pem', [pki.root], [pki.global, { nextUpdate: new Date(Date.now() + 10 * 60_000) }]);
    const warnings = await runStartupChecks(loadTlsMaterial(options(soon)), validateMtlsOptions(options(soon)));
    expect(warnings).toEqual([expect.stringMatching(/in .*soon\.pem \(CRL 2 of 2\) goes out of date at .*: publish a new one before then, or its clients are refused \(crl_expired\)$/)]);
    const own = new X509Certificate(pki.certs['user-service'].issued.certPem);
    const revokesUs = await pki.writeCrls('revokes-us.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: own.serialNumber }] }]);
    expect(await startupProblem(loadTlsMaterial(options(revokesUs)))).toMatch(/^crlPath: our own certificate CN=user-service \(serial [0-9A-F]+\) is revoked by .*revokes-us\.pem \(CRL 2 of 2\)$/);
  });

  it('names the file of a CRL that does not parse', () => {
    const bad = pki.write('bad.crl', '-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n');
    expect(configProblem(() => loadCrls(bad))).toMatch(new RegExp(`^crlPath: cannot parse the CRL in ${bad} \\(`));
  });
});
