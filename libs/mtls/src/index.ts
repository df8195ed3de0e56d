// The public API of nest-mtls, export by export: what is not named here is
// internal and may change in any release. test/unit/public-api.spec.ts pins
// this list (and that each export has a doc comment), so changes are deliberate.
// Entry points of their own: `nest-mtls/app` (settings, logger, graceful shutdown),
// `nest-mtls/testing` (test helpers), `nest-mtls/dev-pki` (the development PKI).

// The module, its options, and the joint to TLS endpoints.
export { MtlsModule } from './mtls.module';
export type { MtlsModuleExtras } from './mtls.module-definition';
export { InjectMtlsOptions } from './inject-mtls-options';
export type { MtlsOptionsView } from './config/options-view';
export type {
  MtlsOptions,
  ResolvedMtlsOptions,
  KeyStoreType,
  TlsProtocol,
  DefaultPolicy,
  PolicyMode,
  ForwardedCertHeader,
  EndpointIdentification,
  CrlCheck,
  RevocationFailure,
  DnFormat,
  SecurityLevel,
} from './config/mtls-options.interface';
export { mtlsOptionsFromEnv, type EnvSource } from './config/mtls-options-from-env';
export type { MtlsPemSource, MtlsPemMaterial } from './config/pem-source.interface';
export { MtlsMaterialSource, type MtlsRole, type MtlsReloadResult } from './material/material-source';
export type { MtlsMaterialSnapshot } from './material/material-snapshot';
export type { TlsMaterial, KeyMaterial, TrustMaterial, IntermediateMaterial, LoadedCrl } from './material/tls-material.interface';
export type { ParsedCrl, CrlRevocation } from './x509/crl-index';
export type { MtlsRevocationCheck, RevocationSource } from './revocation/revocation-answer';
export { MtlsExpressAdapter } from './server/mtls-express-adapter';
export { MTLS_ENDPOINT, isMtlsEndpoint, type MtlsEndpoint } from './server/mtls-endpoint';
export { MtlsServing } from './server/mtls-serving';
export { bindMtlsServer, type MtlsServerBinding } from './server/bind-mtls-server';
export { REFUSAL_REASONS, type RefusalReason } from './telemetry/refusal-reason';
export type { TlsRefusal } from './telemetry/tls-refusal';
export { MtlsEvents, type GuardDecision, type GuardRefusalReason, type TlsHandshake } from './telemetry/mtls-events';
export type { MtlsCounts, GuardDecisionCount, GuardRefusalCount, GuardOutcome } from './telemetry/mtls-counts';
export { tlsConnectionOf, type TlsConnectionInfo } from './telemetry/tls-connection';

// Who is calling: the identity of a verified client certificate.
export type { ClientIdentity, SubjectAltNames } from './identity/client-identity.interface';
export { identityFromCertificate } from './identity/identity-from-certificate';
export { formatDn, subjectDn, issuerDn } from './identity/dn-format';
export { subjectAltNames } from './identity/subject-alt-names';
export { peerIdentity, peerCertificateState, type PeerCertificateState } from './identity/peer-identity';
export { MtlsIdentitySource, type CallerState } from './guard/identity-source';
// What ClientCertGuard's protected judge/refuse/record take (for subclasses).
export type { GuardProblem, GuardVerdict } from './guard/guard-verdict';
export type { RefusalStatus } from './guard/call-context';
export type { EndpointVerdict } from './identity/endpoint-identification';
export { verifyClientChain, type ClientChainVerdict, type ClientChainOptions, type ChainProblem, type RevocationLookup } from './revocation/verify-client-chain';

// Which callers may enter: the guard, its decorators and policies.
export { RequireClientCert, RequireAnyClientCert } from './guard/require-client-cert.decorator';
export { ClientCertMode } from './guard/client-cert-mode.decorator';
export { ClientCert } from './guard/client-cert.decorator';
export { TlsConnection } from './guard/tls-connection.decorator';
export { ClientCertGuard } from './guard/client-cert.guard';
export { ClientCertForbiddenException } from './guard/client-cert-forbidden.exception';
export type { ClientCertPolicy, ClientCertRule, ClientCertRequirement, OneOrMany } from './policy/client-cert-policy';
export {
  anyVerifiedClient,
  denyEveryClient,
  subjectMatches,
  issuerMatches,
  hasCommonName,
  hasOrganizationalUnit,
  hasDnsName,
  hasUri,
  hasEmail,
  hasIpAddress,
  hasSpiffeId,
  inTrustDomain,
  fingerprintIn,
  anyOf,
  allOf,
} from './policy/client-cert-policies';
export { describePolicy, explainPolicy, type PolicyExplanation } from './policy/policy-explanation';
export { decidePolicy } from './policy/policy-explanation';
export type { ClientCertAdmission, ClientCertDecision, ClientCertRefusal, PolicyRuleCode } from './policy/client-cert-decision';
export { MtlsPolicyInventory, type PolicyInventoryEntry } from './guard/policy-inventory';
export { CLIENT_CERT_POLICY, CLIENT_CERT_MODE, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './guard/client-cert.constants';

// Calling other services with our certificate.
export { MtlsHttpClient, type MtlsRequest, type MtlsResponse } from './client/mtls-http-client';

// Errors: one family, each with a stable `code`.
export { MtlsError } from './errors/mtls.error';
export { MtlsConfigError } from './errors/mtls-config.error';
export { MtlsClientError, MTLS_CLIENT_ERROR_CODES, type MtlsClientErrorKind, type MtlsClientErrorCode, type MtlsClientErrorOptions } from './client/mtls-client.error';
export { DnFormatError } from './identity/dn-format.error';
