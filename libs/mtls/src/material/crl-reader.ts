import { createSecureContext } from 'node:tls';
import { MtlsConfigError } from '../errors/mtls-config.error';
import { CrlIndex } from '../x509/crl-index';
import { assertWholePem, pemBlocks, reason } from './pem-reader';
import { readSettingFile } from './setting-file';
import type { IndexedCrl } from './tls-material.interface';

const SETTING = 'crlPath';

/**
 * Reads every CRL of a file: a PEM file with one or more `X509 CRL` blocks
 * (one entry each, as Node's `crl` option reads one CRL per entry), or a
 * single DER CRL. Each CRL must parse (indexed by serial number, see
 * CrlIndex: a CRL of 100,000 entries reads in well under a second) and be
 * accepted by OpenSSL. Which CA signed it is for the startup checks to find.
 */
export function loadCrls(path: string): IndexedCrl[] {
  return crlsOfContent(readSettingFile(SETTING, path), SETTING, path);
}

/**
 * The CRLs of `content` (a PEM text of one or more CRLs, or one DER CRL),
 * checked as {@link loadCrls} checks a file's; `setting` and `path` name
 * where it came from in messages (`source` and its name for material a
 * MtlsPemSource supplied).
 */
export function crlsOfContent(content: Buffer, setting: string, path: string): IndexedCrl[] {
  const SETTING = setting;
  let ders: Buffer[];
  if (content.includes('-----BEGIN ')) {
    // OpenSSL reads only the "X509 CRL" label; some tools (@peculiar/x509) write "CRL": accept both.
    const text = content.toString('latin1');
    assertWholePem(text, SETTING, path); // a half-written file is no smaller list of CRLs
    ders = pemBlocks(text)
      .filter((b) => b.label === 'X509 CRL' || b.label === 'CRL')
      .map((b) => Buffer.from(b.pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, ''), 'base64'));
    if (ders.length === 0) throw new MtlsConfigError(SETTING, `no CRL found in ${path}`);
  } else if (content[0] === 0x30) {
    ders = [content];
  } else {
    throw new MtlsConfigError(SETTING, `no CRL found in ${path} (not a PEM file)`);
  }
  return ders.map((der, i) => {
    const which = ders.length > 1 ? `CRL ${i + 1} of ${ders.length} in ${path}` : `the CRL in ${path}`;
    let crl: CrlIndex;
    try {
      crl = new CrlIndex(der);
    } catch (e) {
      throw new MtlsConfigError(SETTING, ders.length === 1 && content[0] === 0x30 ? `cannot parse ${path}: neither a PEM file nor a DER CRL (${reason(e)})` : `cannot parse ${which} (${reason(e)})`);
    }
    const pem = derToPem(der);
    try {
      createSecureContext({ crl: pem });
    } catch (e) {
      throw new MtlsConfigError(SETTING, `OpenSSL cannot read ${which} (${reason(e)})`);
    }
    return { pem, crl, source: ders.length > 1 ? `${path} (CRL ${i + 1} of ${ders.length})` : path };
  });
}

/** One `X509 CRL` PEM block (the label OpenSSL reads). */
export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN X509 CRL-----\n${b64}-----END X509 CRL-----\n`;
}
