import { MtlsConfigError } from '../errors/mtls-config.error';
import { describeCert } from '../x509/trust-path';
import { distinctCertificates } from '../x509/certificate-chain';
import { readStore } from './store-reader';
import type { IntermediateMaterial } from './tls-material.interface';

const SETTING = 'intermediatesPath';

/**
 * The intermediate CA certificates of `intermediatesPath` (PEM): each must be
 * a CA (basicConstraints CA:TRUE), or the file is not what the setting means
 * (a leaf bundle, say). Throws MtlsConfigError naming the setting and file.
 */
export function loadIntermediates(file: string): IntermediateMaterial {
  const certificates = distinctCertificates(readStore(file, { pathSetting: SETTING, withKeys: false, acceptedTypes: ['PEM'] }).certificates);
  if (certificates.length === 0) throw new MtlsConfigError(SETTING, `no certificate found in ${file}`);
  const notCa = certificates.find((c) => !c.ca);
  if (notCa) throw new MtlsConfigError(SETTING, `${describeCert(notCa)} in ${file} is not a CA certificate; the file holds the intermediate CAs that issue client certificates`);
  return { certificates, source: file };
}
