// The one internal entry of nest-mtls, for the project's own tests (jest maps
// `nest-mtls/internal` here). It is NOT an entry point of the package: the
// package's `exports` does not list it and the build leaves it out, so users
// cannot import it. Tests import internals from here, never by deep path, so
// that moving a file inside libs/mtls/src changes this list, not the tests.
// What users may import is in index.ts (and the testing, admin,
// microservices and fastify entries).

// Modules whose functions a test replaces with jest.spyOn (the module object itself).
export * as loopbackCanaryModule from './material/loopback-canary';
export * as identityFromCertificateModule from './identity/identity-from-certificate';

export { resolveAdminOptions } from './admin/mtls-admin-options';
export { RecentSubjects } from './admin/recent-subjects';
export { type ConnectorMigration, migrateApplicationConnector } from './cli/dropwizard/connector-migration';
export { shellValue } from './cli/dropwizard/render-migration';
export { main } from './cli/main';
export { MtlsOutboundAgent } from './client/outbound-agent';
export { unanchoredProblem } from './config/anchored-regex';
export { IANA_TO_OPENSSL_CIPHER } from './config/cipher-suite-names';
export { closestName, editDistance } from './config/closest-name';
export { DROPWIZARD_HTTPS_KEYS } from './config/dropwizard-names';
export { withEnvVariable } from './config/env-origin';
export { KNOWN_MTLS_VARIABLES, MTLS_CODE_ONLY_OPTIONS, MTLS_ENV, MTLS_ENV_NOT_OPTIONS, MTLS_SPIFFE_ENV } from './config/mtls-env';
export { MtlsOptionsDto } from './config/mtls-options.dto';
export { compileTrustedProxy } from './config/trusted-proxy';
export { validateMtlsOptions } from './config/validate-mtls-options';
export { MtlsConfigError } from './errors/mtls-config.error';
export { declaredPatternOf, UNDECLARED_PATTERN } from './guard/declared-pattern';
export { OPENSSL_SHORT_NAMES } from './identity/attribute-names';
export { type ClientIdentity } from './identity/client-identity.interface';
export { formatDn, issuerDn, subjectDn } from './identity/dn-format';
export { DnFormatError } from './identity/dn-format.error';
export { readForwardedCertificate } from './identity/forwarded/forwarded-certificate';
export { ForwardedCertificateError } from './identity/forwarded/forwarded-certificate.error';
export { parseXfcc } from './identity/forwarded/xfcc';
export { hostNameProblem } from './identity/host-name';
export { IdentityCache } from './identity/identity-cache';
export { identityFromCertificate } from './identity/identity-from-certificate';
export { formatIp, normalizeIp, parseIpBlock } from './identity/ip-address';
export { cachedIdentityCount, peerCertificateState, type PeerCertificateState, peerIdentity } from './identity/peer-identity';
export { callConnectionOf, rememberCallConnection } from './identity/call-connection';
export { grpcListenAddress } from './grpc/grpc-listen-address';
export { spiffeIdOfUris, spiffeIdProblem } from './identity/spiffe-id';
export { logLine } from './logging/log-line';
export { escapeLogText, logSafe } from './logging/log-safe';
export { logSafeLogger } from './logging/log-safe-logger';
export { peerGroupOf } from './logging/peer-group';
export { type LogFields, RepeatSummarizer } from './logging/repeat-summarizer';
export { takeStartupError } from './logging/startup-error-handoff';
export { OPENSSL_CRL_MAX_BYTES, opensslChecksCrls } from './material/crl-checks';
export { loadCrls } from './material/crl-reader';
export { loadIntermediates } from './material/intermediates-loader';
export { loadKeyMaterial } from './material/key-material-loader';
export { CanaryError, loopbackCanary, onCanaryListening } from './material/loopback-canary';
export { type MtlsMaterialSnapshot } from './material/material-snapshot';
export { readSettingFile } from './material/setting-file';
export { runStartupChecks } from './material/startup-checks';
export { sniffStoreType } from './material/store-type';
export { loadTlsMaterial } from './material/tls-material-loader';
export { type KeyMaterial, type TlsMaterial } from './material/tls-material.interface';
export { secureContextOptions } from './material/tls-server-options';
export { loadTrustMaterial } from './material/trust-material-loader';
export { BoundedJsonSocket, type BoundedJsonSocketLimits } from './microservices/bounded-json-socket';
export { resolveTcpLimits } from './microservices/mtls-tcp-server-options';
export { generateKeyPair, importSigningKey, x509 } from './pki/webcrypto-keys';
export { allOf, anyOf, compileRequirement, compileRequirements, compileRule, requirementFromText } from './policy/client-cert-policies';
export { checkPolicyDnPatterns, DnPattern } from './policy/dn-pattern';
export { javaFullMatchRegExp, JavaRegexError } from './policy/java-regex';
export { httpFetch } from './revocation/http-fetch';
export { SharedFetches } from './revocation/shared-fetches';
export { resolveSpiffeSourceOptions } from './spiffe/spiffe-source-options';
export { workloadApiAddress } from './spiffe/workload-api-address';
export { WORKLOAD_HEADER, WORKLOAD_PROTO } from './spiffe/workload-api-proto';
export { acceptX509SvidResponse, type X509SvidMessage, type X509SvidResponse } from './spiffe/x509-svid-answer';
export { parseCrl } from './x509/crl-index';
export { CrlFormatError } from './x509/crl-format.error';
export { normalizeSerial } from './x509/serial-number';

// The material seam: the checked source, snapshots and their private half, readers, triggers.
export { CheckedMaterialSource, RETRY_FIRST_MS, RETRY_MAX_MS } from './material/checked-material-source';
export { makeSnapshot, secureContextOf } from './material/snapshot-secrets';
export { fileMaterialReader, pemMaterialReader, type MaterialReader } from './material/material-reader';
export { loadPemMaterial } from './material/pem-material-loader';
export { MaterialReloadTriggers } from './material/reload-triggers';
export { type LoadedKeyMaterial, type LoadedTlsMaterial } from './material/tls-material.interface';
// Providers of MtlsModule that are not public API.
export { MtlsRevocation } from './revocation/mtls-revocation';
export { revocationFollowing } from './revocation/revocation-provider';
export { mtlsServing, revocationOf } from './server/mtls-serving';
export { MtlsDrainRegistry } from './shutdown/drain-registry';
// What the fuzz tests (test/unit/fuzz) drive directly.
export { blockContains, parseIp } from './identity/ip-address';
export { formatJdkDn } from './identity/jdk-dn-format';
export { nameAttributes } from './identity/name-attributes';
export { DerReader, type DerElement } from './x509/der-reader';
