import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClientCert, ClientCertGuard, RequireClientCert, type ClientIdentity } from 'nest-mtls';
import { clientCertGuardFor, testClientIdentity } from 'nest-mtls/testing';

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class UsersController {
  @Get()
  list(@ClientCert() caller: ClientIdentity) {
    return { caller: caller.subject, spiffeId: caller.spiffeId ?? null };
  }

  @Get('audit')
  @RequireClientCert({ spiffeId: 'spiffe://example.org/auditor' })
  audit(@ClientCert('fingerprint256') fingerprint: string) {
    return { fingerprint };
  }
}

/**
 * nest-mtls/testing's stand-in for ClientCertGuard in tests without TLS: the
 * route's policy judges the given identity (handler over controller), the
 * refusals are the guard's own, and @ClientCert() returns the identity.
 */
describe('clientCertGuardFor (tests without TLS)', () => {
  async function get(identity: ClientIdentity | undefined, path: string): Promise<{ status: number; body: unknown }> {
    const moduleRef = await Test.createTestingModule({ controllers: [UsersController] }).overrideGuard(ClientCertGuard).useValue(clientCertGuardFor(identity)).compile();
    const app: INestApplication = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${await app.getUrl()}${path}`);
      return { status: res.status, body: await res.json() };
    } finally {
      await app.close();
    }
  }

  it('admits a caller the policy accepts; @ClientCert() is the given identity', async () => {
    const caller = await testClientIdentity({ subject: 'CN=home-page-service,O=nest-mtls', uri: ['spiffe://example.org/home-page-service'] });
    expect(await get(caller, '/users')).toEqual({ status: 200, body: { caller: 'CN=home-page-service,O=nest-mtls', spiffeId: 'spiffe://example.org/home-page-service' } });
  });

  it("refuses one the policy does not accept with the guard's 403", async () => {
    const caller = await testClientIdentity({ subject: 'CN=event-service,O=nest-mtls' });
    expect(await get(caller, '/users')).toEqual({ status: 403, body: { statusCode: 403, message: 'Certificate subject is not recognized!' } });
  });

  it("undefined is a caller without a certificate: the guard's 403", async () => {
    expect(await get(undefined, '/users')).toEqual({ status: 403, body: { statusCode: 403, message: 'No certificate chain found!' } });
  });

  it("the handler's policy wins over the controller's, as with the real guard", async () => {
    const auditor = await testClientIdentity({ subject: 'CN=auditor', uri: ['spiffe://example.org/auditor'] });
    expect(await get(auditor, '/users/audit')).toEqual({ status: 200, body: { fingerprint: auditor.fingerprint256 } });
    expect((await get(auditor, '/users')).status).toBe(403);
  });

  it('testClientIdentity is a real certificate: its fields are the certificate\'s', async () => {
    const identity = await testClientIdentity({ subject: 'CN=batch,OU=payments,O=example', dns: ['batch.example'] });
    expect(identity).toMatchObject({ subject: 'CN=batch,OU=payments,O=example', issuer: 'CN=nest-mtls test CA', commonName: 'batch', organizationalUnits: ['payments'] });
    expect(identity.san.dns).toEqual(['batch.example']);
    expect(identity.fingerprint256).toBe(identity.certificate.fingerprint256);
    expect(identity.serialNumber).toBe(identity.certificate.serialNumber);
    expect(identity.certificate.checkIssued(identity.certificate)).toBe(false);
  });
});
