import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { compileRequirements } from './client-cert-policies';
import type { ClientCertRequirement } from './client-cert-policy';
import { CLIENT_CERT_POLICY } from './client-cert.constants';
import { ClientCertGuard } from './client-cert.guard';

/**
 * Requires a verified client certificate that meets one of the requirements
 * (none = any verified certificate), on a controller or a handler; the
 * handler's wins. A RegExp is tested against the subject DN as
 * `mtls inspect` prints it: anchor it (`/^CN=home-page-service(,|$)/`).
 *
 *     @RequireClientCert(/^CN=home-page-service(,|$)/)
 *     @RequireClientCert({ spiffeId: ['spiffe://example.org/home'] })
 *
 * A RegExp with the g or y flag throws here, when the class is defined.
 */
export function RequireClientCert(...requirements: ClientCertRequirement[]): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(CLIENT_CERT_POLICY, compileRequirements(requirements)), UseGuards(ClientCertGuard));
}
