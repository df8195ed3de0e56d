// Development/test PKI: certificates, CRLs and PKCS#12 keystores made at runtime.
export type {
  CertificateSpec,
  CrlOptions,
  CrlReason,
  ExtendedKeyUsageName,
  IssuedCertificate,
  KeyAlgorithm,
  Pkcs12Options,
  RevokedCertificate,
} from './certificate-spec.interface';
export { createIntermediateCa, createRootCa, isSelfSigned, issueCertificate, randomSerialNumber } from './certificate-factory';
export { createCrl } from './crl-factory';
export { toPkcs12 } from './pkcs12-writer';
export { nameFromRfc4514 } from './distinguished-name';
export {
  DEFAULT_PKI_PASSWORD,
  DEFAULT_SERVICES,
  GLOBAL_CA_SUBJECT,
  ROOT_CA_SUBJECT,
  checkServiceName,
  ensureDevPki,
  initPki,
  issueIntoPki,
  loadIssuedCertificate,
  openPki,
} from './dev-pki';
export type { InitPkiOptions, PkiFiles, PkiIssueSpec, PkiLayout } from './dev-pki';
