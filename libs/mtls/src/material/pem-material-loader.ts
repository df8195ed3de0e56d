import type { MtlsPemMaterial } from '../config/pem-source.interface';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { distinctCertificates, keyMatches, orderChain } from '../x509/certificate-chain';
import { crlsOfContent } from './crl-reader';
import { assertWholePem, readPemCertificates, readPemPrivateKey } from './pem-reader';
import type { LoadedTlsMaterial } from './tls-material.interface';

/** The setting messages name for material a source supplies. */
const SETTING = 'source';

/**
 * TLS material from PEM text a {@link MtlsPemSource} supplied, read as the
 * file loaders read files (every block whole, the key matching a certificate
 * of the chain, the chain ordered leaf first, CAs only from `ca`, each CRL
 * parsed and accepted by OpenSSL). Throws MtlsConfigError naming `source`,
 * the source's name and the part (`key`, `cert`, `ca`, `crl`).
 */
export function loadPemMaterial(pem: MtlsPemMaterial, name: string): LoadedTlsMaterial {
  if (pem === null || typeof pem !== 'object') throw new MtlsConfigError(SETTING, `${name}: read() must return { key, cert, ca } as PEM text`);
  for (const part of ['key', 'cert', 'ca'] as const) {
    if (typeof pem[part] !== 'string' || pem[part].length === 0) throw new MtlsConfigError(SETTING, `${name}: read() returned no ${part} (PEM text)`);
  }
  if (pem.crl !== undefined && typeof pem.crl !== 'string') throw new MtlsConfigError(SETTING, `${name}: crl must be PEM text`);
  const where = (part: string) => `${part} of ${name}`;
  for (const part of ['key', 'cert', 'ca'] as const) assertWholePem(pem[part], SETTING, where(part));

  const key = readPemPrivateKey(pem.key, where('key'), { keySetting: SETTING, passphrase: pem.passphrase, passphraseSetting: SETTING });
  if (!key) throw new MtlsConfigError(SETTING, `no private key in the ${where('key')}`);
  const certs = readPemCertificates(pem.cert, SETTING, where('cert'));
  if (certs.length === 0) throw new MtlsConfigError(SETTING, `no certificate in the ${where('cert')}`);
  const leaf = certs.find((c) => keyMatches(c, key)) ?? certs[0];
  if (!keyMatches(leaf, key)) throw new MtlsConfigError(SETTING, `the private key of ${name} does not match its certificate`);
  const cas = distinctCertificates(readPemCertificates(pem.ca, SETTING, where('ca')));
  if (cas.length === 0) throw new MtlsConfigError(SETTING, `no CA certificate in the ${where('ca')}`);

  return {
    identity: { key, keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), chain: orderChain(leaf, certs), source: name },
    trust: { cas, nonCa: cas.filter((c) => !c.ca), source: where('ca') },
    crls: pem.crl ? crlsOfContent(Buffer.from(pem.crl, 'latin1'), SETTING, where('crl')) : undefined,
  };
}
