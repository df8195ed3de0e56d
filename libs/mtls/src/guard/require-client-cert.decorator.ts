import { SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { anyVerifiedClient, compileRequirements } from '../policy/client-cert-policies';
import type { ClientCertRequirement } from '../policy/client-cert-policy';
import { CLIENT_CERT_POLICY } from './client-cert.constants';
import { ClientCertGuard } from './client-cert.guard';

/**
 * Requires a verified client certificate that meets one of the requirements
 * (none = any verified certificate), on a controller or a handler; the
 * handler's wins. A RegExp is tested (searched) against the subject DN as
 * `mtls inspect` prints it: anchor it (`/^CN=home-page-service(,|$)/`). A
 * string is read as the module's `dnFormat` says: the source of such a RegExp
 * (`rfc4514`), or, under `jdk`, a Java regex that must match the whole DN as
 * Java prints it, like the article's Dropwizard filter
 * (`'^CN=home-page-service, OU=Engineering, .*$'`); Java syntax JavaScript
 * cannot match exactly stops startup, naming it.
 *
 *     @RequireClientCert(/^CN=home-page-service(,|$)/)
 *     @RequireClientCert({ spiffeId: 'spiffe://example.org/home-page-service' })
 *     @RequireClientCert({ spiffeTrustDomain: 'example.org', ou: 'payments' })
 *
 * Every value is checked here, when the class is defined: a RegExp with the
 * g or y flag, a malformed SPIFFE ID, CIDR block or fingerprint, an unknown
 * or empty rule throw, naming the value.
 */
export function RequireClientCert(...requirements: ClientCertRequirement[]): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(CLIENT_CERT_POLICY, compileRequirements(requirements)), UseGuards(ClientCertGuard));
}

/**
 * Any verified client certificate may call this route, and nothing more is
 * asked: what a route needs under a global guard with `defaultPolicy: 'deny'`
 * to stay open to every trusted caller (a health check, say). Says it in
 * words where `@RequireClientCert()` without arguments says it by omission.
 */
export function RequireAnyClientCert(): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(CLIENT_CERT_POLICY, anyVerifiedClient), UseGuards(ClientCertGuard));
}
