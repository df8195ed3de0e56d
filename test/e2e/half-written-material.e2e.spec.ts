import { Controller, Get } from '@nestjs/common';
import { MtlsMaterialSource, RequireClientCert, type MtlsReloadResult } from 'nest-mtls';
import { createCrl } from 'nest-mtls/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { filter, firstValueFrom } from 'rxjs';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome } from '../support/tls-probe';

@Controller('health')
@RequireClientCert()
class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

/** The text of a PEM file cut half way into its last block: what a reader sees while the file is being written. */
function cutInLastBlock(text: string): string {
  const begin = text.lastIndexOf('-----BEGIN ');
  const end = text.indexOf('-----END ', begin);
  return text.slice(0, begin + Math.floor((end - begin) / 2));
}

/**
 * A CRL file or a trust bundle caught half-written by a live reload (the
 * watcher sees the first bytes of a rewrite in place): before, its trailing
 * partial PEM block was skipped and the file read as a smaller bundle, so a
 * revoked certificate was admitted under `revocationFailure: 'open'` (its
 * CA's CRL gone) and the clients of a CA whose block was cut were refused.
 * Now the reload fails, the last good material stays, and the whole file is
 * taken when it is complete.
 */
describe.each(HTTP_ADAPTERS)('half-written material during a live reload (%s)', (adapter) => {
  let pki: TestPki;

  beforeAll(async () => {
    pki = await TestPki.create();
  });
  afterAll(() => pki?.cleanup());

  const nextReload = (svc: RunningApp) => firstValueFrom(svc.app.get(MtlsMaterialSource).reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'unchanged')));

  describe("a CRL file cut inside its last CRL, revocationFailure 'open'", () => {
    let svc: RunningApp;
    let crlPath: string;

    beforeAll(async () => {
      crlPath = pki.write('live-crl.pem', readFileSync(pki.crlAll, 'latin1')); // the root's CRL, then the global CA's (revokes `revoked`)
      svc = await startWithOptions(pki.pemOptions('user-service', { crlPath, revocationFailure: 'open' }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it('keeps the last good CRLs: the revoked certificate stays refused, and the whole file is taken once written', async () => {
      expect(await handshakeOutcome(svc.port, pki.clientTls('revoked'))).toBe('refused');
      const half = nextReload(svc);
      writeFileSync(crlPath, cutInLastBlock(readFileSync(pki.crlAll, 'latin1')));
      const result = await half;
      expect(result.result).toBe('failure');
      expect(result.error).toBe(`crlPath: ${crlPath} ends inside PEM block 2 of 2 (-----BEGIN X509 CRL----- without its -----END X509 CRL-----; a file still being written?)`);
      expect(svc.logs.lines.some((l) => l.includes(`reload of the TLS material failed`) && l.includes(`${crlPath} ends inside PEM block 2 of 2`))).toBe(true);
      expect(await handshakeOutcome(svc.port, pki.clientTls('revoked'))).toBe('refused');
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);

      // The writer finishes: a new CRL of the global CA that also revokes event-service.
      const revoked = [pki.certs.revoked, pki.certs['event-service']].map((c) => ({ serialNumber: c.issued.certificate.serialNumber }));
      const whole = (await createCrl(pki.root)) + (await createCrl(pki.global, { revoked }));
      const done = firstValueFrom(svc.app.get(MtlsMaterialSource).reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
      writeFileSync(crlPath, whole);
      expect((await done).result).toBe('success');
      expect(await handshakeOutcome(svc.port, pki.clientTls('event-service'))).toBe('refused');
      expect(await handshakeOutcome(svc.port, pki.clientTls('revoked'))).toBe('refused');
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
    });
  });

  describe('a trust bundle cut inside its last CA', () => {
    let svc: RunningApp;
    let trustStorePath: string;
    let bundle: string;

    beforeAll(async () => {
      bundle = pki.root.certPem + pki.otherRoot.certPem; // our root, then another CA whose clients we admit
      trustStorePath = pki.write('live-trust.pem', bundle);
      svc = await startWithOptions(pki.pemOptions('user-service', { trustStorePath }), [HealthController], [], adapter);
    });
    afterAll(() => svc?.close());

    it("keeps the last good trust store: the cut CA's clients stay admitted", async () => {
      const ofOtherCa = { ...pki.clientTls('untrusted'), ca: bundle }; // issued under the other root
      expect(await handshakeOutcome(svc.port, ofOtherCa)).toBe(200);
      const half = nextReload(svc);
      writeFileSync(trustStorePath, cutInLastBlock(bundle));
      const result = await half;
      expect(result.result).toBe('failure');
      expect(result.error).toBe(`trustStorePath: ${trustStorePath} ends inside PEM block 2 of 2 (-----BEGIN CERTIFICATE----- without its -----END CERTIFICATE-----; a file still being written?)`);
      expect(await handshakeOutcome(svc.port, ofOtherCa)).toBe(200);
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      // The writer finishes: the files are back to the material in use, and the failure is over.
      const source = svc.app.get(MtlsMaterialSource);
      const done = firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'failure'))); // not a retry of the cut file
      writeFileSync(trustStorePath, bundle);
      expect((await done).result).toBe('unchanged');
      expect(source.lastReload?.result).toBe('unchanged');
      expect(await handshakeOutcome(svc.port, ofOtherCa)).toBe(200);
    });
  });
});
