import { randomBytes, X509Certificate } from 'node:crypto';
import type { CertificateSpec, IssuedCertificate, KeyAlgorithm } from './certificate-spec.interface';
import { nameFromRfc4514 } from './distinguished-name';
import { generateKeyPair, importSigningKey, x509 } from './webcrypto-keys';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const LEAF_DAYS = 365;
const CA_DAYS = 3650;

const EKU_OIDS: Record<string, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  ocspSigning: x509.ExtendedKeyUsage.ocspSigning,
};

type Kind = 'root' | 'intermediate' | 'leaf';

/** A self-signed root CA: CA:true (no path length limit), keyCertSign + cRLSign. */
export function createRootCa(spec: CertificateSpec): Promise<IssuedCertificate> {
  return create('root', undefined, spec);
}

/** An intermediate CA signed by `issuer`: CA:true pathLen 0, keyCertSign + cRLSign. */
export function createIntermediateCa(issuer: IssuedCertificate, spec: CertificateSpec): Promise<IssuedCertificate> {
  return create('intermediate', issuer, spec);
}

/**
 * An end-entity certificate signed by `issuer`: CA:false, digitalSignature
 * (+ keyEncipherment for RSA), EKU serverAuth + clientAuth unless told
 * otherwise, the SANs of the spec, SKI/AKI.
 */
export function issueCertificate(issuer: IssuedCertificate, spec: CertificateSpec): Promise<IssuedCertificate> {
  return create('leaf', issuer, spec);
}

/** True when `cert` is self-signed (a root). */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/** A random positive serial number of `bytes` bytes, as hex (no leading zero byte). */
export function randomSerialNumber(bytes = 16): string {
  const serial = randomBytes(bytes);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  return serial.toString('hex');
}

async function create(kind: Kind, issuer: IssuedCertificate | undefined, spec: CertificateSpec): Promise<IssuedCertificate> {
  const keyAlgorithm: KeyAlgorithm = spec.keyAlgorithm ?? 'ec';
  if (keyAlgorithm !== 'ec' && keyAlgorithm !== 'rsa') throw new Error(`unknown key algorithm "${String(keyAlgorithm)}" (use ec or rsa)`);
  const now = Date.now();
  const notBefore = spec.notBefore ?? new Date(now - HOUR_MS);
  const notAfter = spec.notAfter ?? new Date(now + (kind === 'leaf' ? LEAF_DAYS : CA_DAYS) * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) throw new Error('notAfter must be later than notBefore');
  const serialNumber = normaliseSerial(spec.serialNumber);

  const subject = nameFromRfc4514(spec.subject);
  const pair = await generateKeyPair(keyAlgorithm, spec.modulusLength);
  const signer = await importSigningKey(issuer ? issuer.key : pair.key);
  const issuerCert = issuer ? new x509.X509Certificate(issuer.certPem) : undefined;

  const extensions: x509.Extension[] = [];
  if (kind === 'leaf') {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    const usages = x509.KeyUsageFlags.digitalSignature | (keyAlgorithm === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0);
    extensions.push(new x509.KeyUsagesExtension(usages, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(true, kind === 'intermediate' ? 0 : undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  }
  const eku = spec.extendedKeyUsage ?? (kind === 'leaf' ? ['serverAuth', 'clientAuth'] : []);
  if (eku.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(eku.map((name) => ekuOid(name))));
  }
  const sans = subjectAltNames(spec);
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(pair.keys.publicKey));
  if (issuerCert) extensions.push(await authorityKeyIdentifier(issuerCert));
  if (spec.crlDistributionPoints?.length) extensions.push(new x509.CRLDistributionPointsExtension(spec.crlDistributionPoints));
  if (spec.ocspUrls?.length) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: spec.ocspUrls }));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: issuerCert ? issuerCert.subjectName : subject,
    notBefore,
    notAfter,
    publicKey: pair.keys.publicKey,
    signingKey: signer.signingKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions,
  });

  const certPem = cert.toString('pem') + '\n';
  const certificate = new X509Certificate(certPem);
  const issuerChain = issuer && !isSelfSigned(issuer.certificate) ? issuer.chain : [];
  const chain = [certificate, ...issuerChain];
  return {
    certificate,
    certPem,
    key: pair.key,
    keyPem: pair.keyPem,
    chain,
    chainPem: chain.map((c) => c.toString()).join(''),
  };
}

function normaliseSerial(serial: string | undefined): string {
  if (serial === undefined) return randomSerialNumber();
  const hex = serial.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || /^0+$/.test(hex)) throw new Error(`invalid serial number "${serial}": expected non-zero hex`);
  // A leading bit of 1 would make the DER INTEGER negative: prefix a zero byte.
  const even = hex.length % 2 ? `0${hex}` : hex;
  return parseInt(even.slice(0, 2), 16) >= 0x80 ? `00${even}` : even;
}

function ekuOid(name: string): string {
  const oid = EKU_OIDS[name];
  if (!oid) throw new Error(`unknown extended key usage "${name}" (use serverAuth, clientAuth or ocspSigning)`);
  return oid;
}

function subjectAltNames(spec: CertificateSpec): x509.JsonGeneralName[] {
  return [
    ...(spec.dns ?? []).map((value): x509.JsonGeneralName => ({ type: 'dns', value })),
    ...(spec.ip ?? []).map((value): x509.JsonGeneralName => ({ type: 'ip', value })),
    ...(spec.uri ?? []).map((value): x509.JsonGeneralName => ({ type: 'url', value })),
    ...(spec.email ?? []).map((value): x509.JsonGeneralName => ({ type: 'email', value })),
  ];
}

/** AKI = the issuer's SKI when it has one (so it matches whatever made the issuer), else derived from its key. */
async function authorityKeyIdentifier(issuerCert: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey);
}
