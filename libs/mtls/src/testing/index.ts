// Entry point `nest-mtls/testing`: the development PKI (certificates, CRLs and
// PKCS#12 keystores made at runtime) for tests, demos and the `mtls` tool.
// Never needed in production code; the main entry `nest-mtls` does not load it.
export type {
  CertificateSpec,
  CrlOptions,
  CrlReason,
  ExtendedKeyUsageName,
  IssuedCertificate,
  KeyAlgorithm,
  Pkcs12Options,
  RevokedCertificate,
} from '../pki/certificate-spec.interface';
export { createIntermediateCa, createRootCa, isSelfSigned, issueCertificate, randomSerialNumber } from '../pki/certificate-factory';
export { createCrl } from '../pki/crl-factory';
export { toPkcs12 } from '../pki/pkcs12-writer';
export { nameFromRfc4514 } from '../pki/distinguished-name';
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
  publishCrl,
  revokeInPki,
  type InitPkiOptions,
  type RevokedInPki,
  type PkiFiles,
  type PkiIssueSpec,
  type PkiLayout,
} from '../pki/dev-pki';
export { DEV_PKI_DIR, mtlsOptionsWithDevPki, type DevPkiOptions } from '../pki/dev-pki-options';
export { clientCertGuardFor, testClientIdentity } from './client-cert-guard-for';
