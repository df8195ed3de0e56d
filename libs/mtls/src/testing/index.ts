// Entry point `nest-mtls/testing`: the development PKI (certificates, CRLs and
// PKCS#12 keystores made at runtime) for tests, demos and the `mtls` tool.
// Never needed in production code; the main entry `nest-mtls` does not load it.
export type {
  CertificateSpec,
  CrlOptions,
  CrlReason,
  ExtendedKeyUsageName,
  InitPkiOptions,
  IssuedCertificate,
  KeyAlgorithm,
  Pkcs12Options,
  PkiFiles,
  PkiIssueSpec,
  PkiLayout,
  RevokedCertificate,
} from '../pki';
export {
  DEFAULT_PKI_PASSWORD,
  DEFAULT_SERVICES,
  GLOBAL_CA_SUBJECT,
  ROOT_CA_SUBJECT,
  checkServiceName,
  createCrl,
  createIntermediateCa,
  createRootCa,
  ensureDevPki,
  initPki,
  isSelfSigned,
  issueCertificate,
  issueIntoPki,
  loadIssuedCertificate,
  nameFromRfc4514,
  openPki,
  randomSerialNumber,
  toPkcs12,
} from '../pki';
export { DEV_PKI_DIR, mtlsOptionsWithDevPki } from '../pki/dev-pki-options';
export type { DevPkiOptions } from '../pki/dev-pki-options';
