import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { DnFormat } from '../config/mtls-options.interface';
import type { ClientIdentity } from '../identity/client-identity.interface';
import { identityFromCertificate } from '../identity/identity-from-certificate';
import type { CallerState } from '../guard/identity-source';
import { createRootCa, issueCertificate } from '../pki/certificate-factory';
import type { CertificateSpec } from '../pki/certificate-spec.interface';
import { ClientCertGuard } from '../guard/client-cert.guard';

/**
 * ClientCertGuard for tests without TLS, judging one given caller as if a
 * verified client certificate had presented it: the route's policy still
 * decides (the handler runs, or the article's 403), and `@ClientCert()`
 * returns `identity`. `undefined` is a caller without a certificate (403
 * "No certificate chain found!").
 *
 *     Test.createTestingModule({ controllers: [UsersController] })
 *       .overrideGuard(ClientCertGuard)
 *       .useValue(clientCertGuardFor(await testClientIdentity({ subject: 'CN=home-page-service' })))
 *
 * Test-only: it trusts whoever it is given. Outside MtlsModule it has the
 * module's defaults (defaultPolicy 'any-verified', policyMode 'enforce').
 */
export function clientCertGuardFor(identity: ClientIdentity | undefined): ClientCertGuard {
  return new GivenCallerGuard(identity);
}

/**
 * The ClientIdentity a verified client certificate with `spec`'s subject and
 * SANs gives the guard: a real certificate, issued by a throwaway CA made for
 * it (so `certificate`, serial and fingerprint are real too).
 */
export async function testClientIdentity(spec: CertificateSpec, options: { dnFormat?: DnFormat } = {}): Promise<ClientIdentity> {
  const ca = await createRootCa({ subject: 'CN=nest-mtls test CA' });
  const issued = await issueCertificate(ca, { extendedKeyUsage: ['clientAuth'], ...spec });
  return identityFromCertificate(issued.certificate, options);
}

class GivenCallerGuard extends ClientCertGuard {
  constructor(private readonly given: ClientIdentity | undefined) {
    super(new Reflector());
  }

  protected override identify(_context: ExecutionContext): CallerState {
    return this.given ? { status: 'verified', identity: this.given, via: 'tls' } : { status: 'none' };
  }
}
