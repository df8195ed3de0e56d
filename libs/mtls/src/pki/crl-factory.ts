import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import type { CrlOptions, IssuedCertificate } from './certificate-spec.interface';
import { importSigningKey, x509 } from './webcrypto-keys';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_VALIDITY_DAYS = 30;

/**
 * One X.509 v2 CRL, as PEM, signed by `issuer`, with a CRL number and an
 * authority key identifier (the issuer's SKI). Empty unless `revoked` is given.
 */
export async function createCrl(issuer: IssuedCertificate, opts: CrlOptions = {}): Promise<string> {
  const thisUpdate = opts.thisUpdate ?? new Date(Date.now() - HOUR_MS);
  const nextUpdate = opts.nextUpdate ?? new Date(thisUpdate.getTime() + DEFAULT_VALIDITY_DAYS * DAY_MS);
  if (nextUpdate.getTime() <= thisUpdate.getTime()) throw new Error('nextUpdate must be later than thisUpdate');
  const crlNumber = opts.crlNumber ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(crlNumber) || crlNumber < 0) throw new Error(`invalid CRL number ${crlNumber}`);

  const issuerCert = new x509.X509Certificate(issuer.certPem);
  const { signingKey, signingAlgorithm } = await importSigningKey(issuer.key);
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey);
  const number = new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(crlNumber)));

  const crl = await x509.X509CrlGenerator.create({
    issuer: issuerCert.subjectName,
    thisUpdate,
    nextUpdate,
    signingKey,
    signingAlgorithm,
    extensions: [aki, number],
    entries: (opts.revoked ?? []).map((entry) => {
      const revocationDate = entry.date ?? thisUpdate;
      return {
        serialNumber: serialHex(entry.serialNumber),
        revocationDate,
        // @peculiar/x509 2.2 writes an empty (non-DER) crlEntryExtensions when an entry
        // has none: give every entry one, the reason when known, else the invalidity date.
        ...(entry.reason ? { reason: x509.X509CrlReason[entry.reason] } : { invalidity: wholeSeconds(revocationDate) }),
      };
    }),
  });
  // OpenSSL only reads the "X509 CRL" PEM label (the library writes "CRL").
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n';
}

/** RFC 5280: GeneralizedTime without fractional seconds. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Accepts `X509Certificate.serialNumber` style (uppercase, maybe with a 00 byte) or `AA:BB` style. */
function serialHex(serial: string): string {
  const hex = serial.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`invalid serial number "${serial}": expected hex`);
  const even = hex.length % 2 ? `0${hex}` : hex;
  return parseInt(even.slice(0, 2), 16) >= 0x80 ? `00${even}` : even;
}
