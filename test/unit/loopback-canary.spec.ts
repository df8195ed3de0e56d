/** The loopback canary judges its own handshake only: other local sockets on its port are dropped, and its failures say whose they are. */
import { MtlsError, type MtlsOptions } from 'nest-mtls';
import { CheckedMaterialSource, makeSnapshot, secureContextOf } from 'nest-mtls/internal';
import { validateMtlsOptions } from 'nest-mtls/internal';
import { loopbackCanaryModule as canaryModule } from 'nest-mtls/internal';
import { CanaryError, loopbackCanary, onCanaryListening } from 'nest-mtls/internal';
import type { MtlsMaterialSnapshot } from 'nest-mtls/internal';
import { loadCrls } from 'nest-mtls/internal';
import { loadTlsMaterial } from 'nest-mtls/internal';
import { runStartupChecks } from 'nest-mtls/internal';
import { connect as netConnect, type Socket } from 'node:net';
import { TestPki } from '../support/test-pki';

let pki: TestPki;
beforeAll(async () => (pki = await TestPki.create()));
afterAll(() => pki?.cleanup());

/** A snapshot made from the options, as MtlsMaterialSource makes one (the startup checks find which CA signed each CRL). */
async function snapshotOf(raw: MtlsOptions): Promise<MtlsMaterialSnapshot> {
  const options = validateMtlsOptions(raw);
  const material = loadTlsMaterial(options);
  await runStartupChecks(material, options);
  return makeSnapshot(material, options, 1);
}

/** Good material whose secure context is then given CRLs that revoke our own certificate (the startup checks would have refused them). */
async function revokedSnapshot(crlFile: string): Promise<MtlsMaterialSnapshot> {
  const options = validateMtlsOptions(pki.pemOptions('user-service', { crlPath: pki.crlAll }));
  const material = loadTlsMaterial(options);
  await runStartupChecks(material, options);
  expect(secureContextOf(makeSnapshot(material, options, 1)).crl).toHaveLength(2); // OpenSSL checks CRLs in this setup
  // The same CAs' CRLs, from crlFile: each signer as the startup checks found it for the good ones.
  const crls = loadCrls(crlFile).map((c) => ({ ...c, issuerCa: material.crls!.find((good) => good.crl.issuerDer.equals(c.crl.issuerDer))!.issuerCa }));
  const revoked = makeSnapshot({ ...material, crls }, options, 1);
  expect(secureContextOf(revoked).crl).toEqual(crls.map((c) => c.pem));
  return revoked;
}

describe('loopbackCanary', () => {
  it('drops and counts connections that are not its own client, however early they come', async () => {
    const strangers: Socket[] = [];
    const stop = onCanaryListening((port) => {
      for (let i = 0; i < 3; i++) {
        const s = netConnect(port, '127.0.0.1', () => s.write('\x16\x03\x01\x00\x05junk'));
        s.on('error', () => undefined);
        strangers.push(s);
      }
    });
    try {
      const outcome = await loopbackCanary(await snapshotOf(pki.pemOptions('user-service', { crlPath: pki.crlAll })));
      expect(outcome).toEqual({ strangers: 3 });
    } finally {
      stop();
      strangers.forEach((s) => s.destroy());
    }
  });

  it('a handshake its own material fails is the material\'s (CanaryError material, the verify reason)', async () => {
    const revokesUs = await pki.writeCrls('revokes-us.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: pki.certs['user-service'].issued.certificate.serialNumber }] }]);
    const failure = await loopbackCanary(await revokedSnapshot(revokesUs)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CanaryError);
    expect(failure).toMatchObject({ cause: 'material' });
    expect((failure as Error).message).toMatch(/^the (server side refused our own client certificate|handshake failed): CERT_REVOKED$/);
  });
});

describe('MtlsMaterialSource and the canary', () => {
  class Source extends CheckedMaterialSource {
    static runCanary(snapshot: MtlsMaterialSnapshot) {
      return CheckedMaterialSource.canary(snapshot);
    }
  }

  it('blames our certificate setting only for a handshake the material failed', async () => {
    const revokesUs = await pki.writeCrls('revokes-us-2.pem', [pki.root], [pki.global, { revoked: [{ serialNumber: pki.certs['user-service'].issued.certificate.serialNumber }] }]);
    await expect(Source.runCanary(await revokedSnapshot(revokesUs))).rejects.toThrow(
      /^certPath: the material does not complete a mutual-TLS handshake on loopback: the (server side refused our own client certificate|handshake failed): CERT_REVOKED$/,
    );
  });

  it('a canary that could not run blames no setting: MtlsError ERR_MTLS_CANARY (here the classification alone: the canary is replaced by its failure)', async () => {
    const spy = jest.spyOn(canaryModule, 'loopbackCanary').mockRejectedValue(new CanaryError('the loopback handshake did not finish within 5000 ms', 'environment'));
    try {
      const err = await Source.runCanary(await snapshotOf(pki.pemOptions('user-service'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MtlsError);
      expect(err).toMatchObject({ code: 'ERR_MTLS_CANARY', message: 'the loopback canary could not run, so the material was not judged: the loopback handshake did not finish within 5000 ms' });
    } finally {
      spy.mockRestore();
    }
  });
});
