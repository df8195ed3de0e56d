import { loadCrls } from 'nest-mtls/internal';
import type { TlsMaterial } from 'nest-mtls/internal';
import { verifyClientChain } from 'nest-mtls';
import { createIntermediateCa, type IssuedCertificate } from 'nest-mtls/testing';
import { TestPki } from '../support/test-pki';

const cn = (cert: { subject: string }) => /^CN=.*$/m.exec(cert.subject)![0];

/** The re-verification of certificates a trusted proxy forwards: what the handshake would have checked. */
describe('verifyClientChain', () => {
  let pki: TestPki;
  let material: TlsMaterial;
  let withCrls: TlsMaterial;
  let team: IssuedCertificate;

  beforeAll(async () => {
    pki = await TestPki.create();
    const own = pki.certs['user-service'].issued;
    material = { identity: { chain: own.chain, source: 'test' }, trust: { cas: [pki.root.certificate], source: pki.trustStore } };
    withCrls = { ...material, crls: loadCrls(pki.crlAll) };
    await pki.issue('weak-rsa', { subject: 'CN=weak', keyAlgorithm: 'rsa', modulusLength: 1024 });
    // Signed by a leaf (not a CA) of our own PKI.
    await pki.issue('by-a-leaf', { subject: 'CN=by-a-leaf' }, pki.certs['event-service'].issued);
    // Another intermediate of our root, which our own chain does not hold.
    team = await createIntermediateCa(pki.root, { subject: 'CN=Team CA,O=nest-mtls test' });
    await pki.issue('team-client', { subject: 'CN=team-client' }, team);
  });
  afterAll(() => pki?.cleanup());

  const verify = (name: string, m = material, intermediates = pki.certs[name].issued.chain.slice(1)) => verifyClientChain(pki.certs[name].issued.certificate, intermediates, m);

  it('a certificate of our PKI, with its intermediate, verifies to the root', async () => {
    const verdict = await verify('home-page-service');
    expect(verdict.verified).toBe(true);
    if (verdict.verified) expect(verdict.path.map(cn)).toEqual(['CN=home-page-service', 'CN=Test Global CA', 'CN=Test Root CA']);
    expect((await verify('home-page-service', withCrls)).verified).toBe(true);
  });

  it('refuses a rogue CA, a missing intermediate, an expired certificate, and one not for TLS clients', async () => {
    expect(await verify('untrusted')).toEqual({
      verified: false,
      problem: 'untrusted',
      reason: 'CN=home-page-service (issuer CN=Other Global CA) does not chain to a CA in the trust store: the issuer CN=Other Root CA of CN=Other Global CA was not found: not forwarded, not in our own chain or the trust store, and intermediatesPath is not set',
    });
    expect(await verify('team-client', material, [])).toEqual({
      verified: false,
      problem: 'untrusted',
      reason: 'CN=team-client (issuer CN=Team CA) does not chain to a CA in the trust store: the issuer CN=Team CA of CN=team-client was not found: not forwarded, not in our own chain or the trust store, and intermediatesPath is not set',
    });
    expect(await verify('expired')).toMatchObject({ verified: false, problem: 'expired', reason: expect.stringMatching(/^CN=home-page-service expired on /) });
    expect(await verify('server-only-eku')).toMatchObject({ verified: false, problem: 'purpose', reason: expect.stringMatching(/no clientAuth/) });
  });

  it('a leaf forwarded without its chain is verified with the intermediates the server knows: its own chain, then intermediatesPath', async () => {
    // Our own chain holds the global CA: the leaf alone is enough.
    const leafOnly = await verify('home-page-service', material, []);
    expect(leafOnly.verified && leafOnly.path.map(cn)).toEqual(['CN=home-page-service', 'CN=Test Global CA', 'CN=Test Root CA']);
    // Another intermediate, from intermediatesPath.
    const withTeam = { ...material, intermediates: { certificates: [team.certificate], source: 'intermediates.pem' } };
    const teamOnly = await verify('team-client', withTeam, []);
    expect(teamOnly.verified && teamOnly.path.map(cn)).toEqual(['CN=team-client', 'CN=Team CA', 'CN=Test Root CA']);
  });

  it('the intermediates the server knows never add trust: a path must still end at a CA of the trust store', async () => {
    // Another PKI's root and intermediate given as intermediates: its client is still refused, and the log says where the path ended.
    const rogue = { ...material, intermediates: { certificates: [pki.otherGlobal.certificate, pki.otherRoot.certificate], source: 'intermediates.pem' } };
    expect(await verify('untrusted', rogue, [])).toEqual({
      verified: false,
      problem: 'untrusted',
      reason: 'CN=home-page-service (issuer CN=Other Global CA) does not chain to a CA in the trust store: it ends at CN=Other Root CA, a root the trust store does not hold',
    });
    // A server whose own chain is another PKI's: its intermediate does not make that PKI's clients trusted either.
    const otherOwn = { ...material, identity: { ...material.identity, chain: [material.identity.chain[0], pki.otherGlobal.certificate] } };
    expect(await verify('untrusted', otherOwn, [])).toMatchObject({ verified: false, problem: 'untrusted' });
  });

  it('refuses a key weaker than the security level, as the handshake would', async () => {
    const weak = pki.certs['weak-rsa'].issued;
    expect(await verifyClientChain(weak.certificate, [pki.global.certificate], material, { securityLevel: 2 })).toMatchObject({
      verified: false,
      problem: 'weak-key',
      reason: 'CN=weak has a 1024-bit RSA key, weaker than securityLevel 2 allows',
    });
  });

  it('refuses a chain through a certificate that is not a CA', async () => {
    const byLeaf = pki.certs['by-a-leaf'].issued;
    expect(await verifyClientChain(byLeaf.certificate, [pki.certs['event-service'].issued.certificate, pki.global.certificate], material)).toMatchObject({
      // OpenSSL's checkIssued already refuses an issuer whose key usage lacks keyCertSign: no path is built through it.
      verified: false,
      problem: 'untrusted',
      reason: 'CN=by-a-leaf (issuer CN=event-service) does not chain to a CA in the trust store: the issuer CN=event-service of CN=by-a-leaf was not found: not forwarded, not in our own chain or the trust store, and intermediatesPath is not set',
    });
  });

  it('with CRLs: a revoked certificate is refused, and so is one whose CA has no current CRL', async () => {
    expect(await verify('revoked', withCrls)).toMatchObject({ verified: false, problem: 'revoked', reason: expect.stringMatching(/is revoked by the CRL of CN=Test Global CA/) });
    expect((await verify('revoked')).verified).toBe(true); // no CRLs, no revocation checking, as in the handshake
    expect(await verify('home-page-service', { ...material, crls: loadCrls(pki.crlExpired) })).toMatchObject({ verified: false, problem: 'revocation-unknown', reason: expect.stringMatching(/the CRL of CA CN=Test Global CA .* is out of date since/) });
    expect(await verify('home-page-service', { ...material, crls: loadCrls(pki.crlRootOnly) })).toMatchObject({ verified: false, problem: 'revocation-unknown', reason: expect.stringMatching(/no CRL signed by CN=Test Global CA/) });
  });

  it('takes another revocation source (OCSP, fetched CRLs) in place of the CRL files', async () => {
    const asked: string[] = [];
    const verdict = await verifyClientChain(pki.certs['home-page-service'].issued.certificate, [pki.global.certificate], material, {
      revocation: async (cert) => {
        asked.push(cn(cert));
        return { status: 'revoked', detail: 'revoked according to the test' };
      },
    });
    expect(verdict).toMatchObject({ verified: false, problem: 'revoked' });
    expect(asked).toEqual(['CN=home-page-service']);
  });
});
