import { MtlsConfigError } from '../errors/mtls-config.error';
import type { TlsProtocol } from './mtls-options.interface';

const ALLOWED: readonly TlsProtocol[] = ['TLSv1.2', 'TLSv1.3'];
const REFUSED = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.0', 'TLSv1.1'];

/** The protocol floor is TLS 1.2: older names are refused as a setting, unknown names too. */
export function resolveProtocols(names: string[]): TlsProtocol[] {
  const resolved = new Set<TlsProtocol>();
  for (const raw of names) {
    const name = raw.trim();
    const match = ALLOWED.find((p) => p.toLowerCase() === name.toLowerCase());
    if (match) {
      resolved.add(match);
    } else if (REFUSED.some((p) => p.toLowerCase() === name.toLowerCase())) {
      throw new MtlsConfigError('supportedProtocols', `${name} is refused: TLSv1.2 is the oldest protocol allowed`);
    } else {
      throw new MtlsConfigError('supportedProtocols', `unknown protocol "${name}" (allowed: ${ALLOWED.join(', ')})`);
    }
  }
  return ALLOWED.filter((p) => resolved.has(p));
}
