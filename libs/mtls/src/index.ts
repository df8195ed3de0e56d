// The public API of nest-mtls, export by export: what is not named here is
// internal and may change in any release. test/unit/public-api.spec.ts pins
// this list (and that each export has a doc comment), so changes are deliberate.
// The development PKI and test helpers are the separate entry point `nest-mtls/testing`.

// The module, its options, and the joint to TLS endpoints.
export { MtlsModule } from './mtls.module';
export { MTLS_MODULE_OPTIONS, type MtlsModuleExtras } from './mtls.module-definition';
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
export { REFUSAL_REASONS, type RefusalReason } from './telemetry/refusal-reason';
export type { TlsRefusal } from './telemetry/tls-refusal';
export { MtlsEvents, type GuardDecision, type GuardRefusalReason, type TlsHandshake } from './telemetry/mtls-events';
export { tlsConnectionOf, type TlsConnectionInfo } from './telemetry/tls-connection';
export { exitOnStartupError } from './server/exit-on-startup-error';

// Running it: graceful shutdown, and logs as text or JSON.
export { enableGracefulShutdown, shutdownGracefully, DEFAULT_SHUTDOWN_TIMEOUT_MS, type GracefulShutdownOptions, type ShutdownReport } from './shutdown/graceful-shutdown';
export type { DrainOutcome } from './shutdown/drainable';
export { MtlsConsoleLogger, logFormatSetting, type LogFormat } from './logging/mtls-console-logger';

// Who is calling: the identity of a verified client certificate.
export type { ClientIdentity, SubjectAltNames } from './identity/client-identity.interface';
export { identityFromCertificate } from './identity/identity-from-certificate';
export { formatDn, subjectDn, issuerDn } from './identity/dn-format';
export { subjectAltNames } from './identity/subject-alt-names';
export { peerIdentity, peerCertificateState, type PeerCertificateState } from './identity/peer-identity';
export { MtlsIdentitySource, type CallerState } from './guard/identity-source';
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
export { MtlsPolicyInventory, type PolicyInventoryEntry } from './guard/policy-inventory';
export { CLIENT_CERT_POLICY, CLIENT_CERT_MODE, NO_CERTIFICATE_MESSAGE, SUBJECT_NOT_RECOGNIZED_MESSAGE } from './guard/client-cert.constants';

// Calling other services with our certificate.
export { MtlsHttpClient, type MtlsRequest, type MtlsResponse } from './client/mtls-http-client';

// Errors: one family, each with a stable `code`.
export { MtlsError } from './errors/mtls.error';
export { MtlsConfigError } from './errors/mtls-config.error';
export { MtlsClientError, MTLS_CLIENT_ERROR_CODES, type MtlsClientErrorKind, type MtlsClientErrorCode, type MtlsClientErrorOptions } from './client/mtls-client.error';
export { DnFormatError } from './identity/dn-format.error';

// Settings of a service that fail fast like ours, and log lines a peer cannot forge.
export { portSetting, httpsUrlSetting, millisecondsSetting, spiffeIdSetting } from './config/service-settings';
export { logLevelsSetting } from './config/log-levels';
export { logSafe, LOG_FIELD_MAX } from './logging/log-safe';
