// Entry point `nest-mtls/dev-pki`: the development PKI on disk (a root and an
// intermediate CA, a certificate, key and PKCS#12 store per service, a CRL)
// made at run time, what the demo services and `mtls pki` use, and
// `mtlsOptionsWithDevPki` for a service that opts in (`MTLS_DEV_PKI=true`,
// refused with NODE_ENV=production). For development only; certificates for
// tests are in `nest-mtls/testing`. The main entry `nest-mtls` does not load it.
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
