import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect polyfill loaded first
import { createSecureContext } from 'node:tls';
import { X509Crl } from '@peculiar/x509';
import { MtlsConfigError } from '../config/mtls-config.error';
import { pemBlocks, reason } from './pem-reader';
import { readSettingFile } from './setting-file';
import type { LoadedCrl } from './tls-material.interface';

const SETTING = 'crlPath';

/**
 * Reads every CRL of a file: a PEM file with one or more `X509 CRL` blocks
 * (one entry each, as Node's `crl` option reads one CRL per entry), or a
 * single DER CRL. Each CRL must parse and be accepted by OpenSSL.
 */
export function loadCrls(path: string): LoadedCrl[] {
  const content = readSettingFile(SETTING, path);
  const text = content.toString('latin1');
  let pems: string[];
  if (text.includes('-----BEGIN ')) {
    // OpenSSL reads only the "X509 CRL" label; some tools (@peculiar/x509) write "CRL": accept both, emit the former.
    pems = pemBlocks(text)
      .filter((b) => b.label === 'X509 CRL' || b.label === 'CRL')
      .map((b) => (b.label === 'CRL' ? b.pem.replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----') : b.pem));
    if (pems.length === 0) throw new MtlsConfigError(SETTING, `no CRL found in ${path}`);
  } else if (content[0] === 0x30) {
    try {
      new X509Crl(content);
      pems = [derToPem(content)];
    } catch (e) {
      throw new MtlsConfigError(SETTING, `cannot parse ${path}: neither a PEM file nor a DER CRL (${reason(e)})`);
    }
  } else {
    throw new MtlsConfigError(SETTING, `no CRL found in ${path} (not a PEM file)`);
  }
  return pems.map((pem, i) => {
    const which = pems.length > 1 ? `CRL ${i + 1} of ${pems.length} in ${path}` : `the CRL in ${path}`;
    let crl: X509Crl;
    try {
      crl = new X509Crl(pem);
    } catch (e) {
      throw new MtlsConfigError(SETTING, `cannot parse ${which} (${reason(e)})`);
    }
    try {
      createSecureContext({ crl: pem });
    } catch (e) {
      throw new MtlsConfigError(SETTING, `OpenSSL cannot read ${which} (${reason(e)})`);
    }
    return { pem, crl, source: pems.length > 1 ? `${path} (CRL ${i + 1} of ${pems.length})` : path };
  });
}

function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN X509 CRL-----\n${b64}-----END X509 CRL-----\n`;
}
