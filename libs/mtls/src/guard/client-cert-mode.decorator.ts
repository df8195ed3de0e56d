import { SetMetadata } from '@nestjs/common';
import type { PolicyMode } from '../config/mtls-options.interface';
import { CLIENT_CERT_MODE } from './client-cert.constants';

/**
 * The policy mode of a controller or handler (the handler's wins, then the
 * module's `policyMode`): `audit` logs and counts the callers its policy
 * (and endpoint identification) would refuse and lets them in, so a policy
 * can be tightened safely; `enforce` refuses them. Callers without a
 * verified certificate are refused in both modes.
 *
 *     @Get('reports')
 *     @RequireClientCert({ spiffeId: 'spiffe://example.org/ns/prod/*' })
 *     @ClientCertMode('audit')
 */
export function ClientCertMode(mode: PolicyMode): ClassDecorator & MethodDecorator {
  if (mode !== 'audit' && mode !== 'enforce') throw new TypeError(`@ClientCertMode: expected 'audit' or 'enforce', got ${JSON.stringify(mode)}`);
  return SetMetadata(CLIENT_CERT_MODE, mode);
}
