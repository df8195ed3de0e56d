// Entry point `nest-mtls/testing`: helpers for tests only. Certificates, CRLs
// and PKCS#12 keystores made in memory by a CA of the test's own (real
// certificates: every check of nest-mtls applies to them), and a
// ClientCertGuard judging a given caller for tests without TLS
// (`overrideGuard`: `@ClientCert()` returns it). Never needed in production
// code; the main entry `nest-mtls` does not load it. The development PKI on
// disk that demo services use is `nest-mtls/dev-pki`.
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
export { clientCertGuardFor, testClientIdentity } from './client-cert-guard-for';
