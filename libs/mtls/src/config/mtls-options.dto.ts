import {
  Allow,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import type { ClientCertRequirement } from '../policy/client-cert-policy';
import type { MtlsPemSource } from './pem-source.interface';
import type { CrlCheck, DefaultPolicy, DnFormat, EndpointIdentification, ForwardedCertHeader, KeyStoreType, MtlsOptions, PolicyMode, RevocationFailure } from './mtls-options.interface';

const STORE_TYPES: KeyStoreType[] = ['PKCS12', 'JKS', 'PEM'];
const CRL_CHECKS: CrlCheck[] = ['chain', 'leaf'];
const REVOCATION_FAILURES: RevocationFailure[] = ['closed', 'open'];

/** A non-empty string (an OpenSSL list), or a non-empty list of non-empty strings. */
function IsGroupList(): PropertyDecorator {
  const isName = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  return ValidateBy({
    name: 'isGroupList',
    validator: {
      validate: (value: unknown) => isName(value) || (Array.isArray(value) && value.length > 0 && value.every(isName)),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be a colon-separated list of key-exchange group names (e.g. X25519MLKEM768:X25519) or a non-empty array of them`,
    },
  });
}

/** A non-empty path, or a non-empty list of non-empty paths. */
function IsPathOrPaths(): PropertyDecorator {
  const isPath = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  return ValidateBy({
    name: 'isPathOrPaths',
    validator: {
      validate: (value: unknown) => isPath(value) || (Array.isArray(value) && value.length > 0 && value.every(isPath)),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be a file path or a non-empty list of file paths`,
    },
  });
}

const SECURITY_LEVEL: ValidationOptions = {
  message: (args: ValidationArguments) => `${args.property} must be a whole number from 2 to 5 (an OpenSSL security level), got ${JSON.stringify(args.value)}`,
};

/** class-validator schema of MtlsOptions: the shape check that runs at startup. */
export class MtlsOptionsDto implements MtlsOptions {
  @IsOptional() @IsString() @IsNotEmpty() keyStorePath?: string;
  @IsOptional() @IsString() keyStorePassword?: string;
  @IsOptional() @IsIn(STORE_TYPES) keyStoreType?: KeyStoreType;
  @IsOptional() @IsString() @IsNotEmpty() certAlias?: string;
  @IsOptional() @IsString() @IsNotEmpty() certPath?: string;
  @IsOptional() @IsString() @IsNotEmpty() keyPath?: string;
  @IsOptional() @IsString() keyPassphrase?: string;
  @IsOptional() @IsString() @IsNotEmpty() trustStorePath?: string;
  @IsOptional() @IsString() trustStorePassword?: string;
  @IsOptional() @IsIn(STORE_TYPES) trustStoreType?: KeyStoreType;
  @IsOptional() @IsString() @IsNotEmpty() intermediatesPath?: string;
  @IsOptional() @IsPathOrPaths() crlPath?: string | string[];
  @IsOptional() @IsIn(CRL_CHECKS) crlCheck?: CrlCheck;
  @IsOptional() @IsBoolean() enableCRLDP?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() crlCacheDir?: string;
  @IsOptional() @IsBoolean() ocsp?: boolean;
  @IsOptional() @IsString() @IsNotEmpty() ocspResponderUrl?: string;
  @IsOptional() @IsBoolean() ocspNonce?: boolean;
  @IsOptional() @IsInt() @Min(1000) @Max(604_800_000) ocspMaxAgeMs?: number;
  @IsOptional() @IsArray() @IsString({ each: true }) revocationAllowedHosts?: string[];
  @IsOptional() @IsIn(REVOCATION_FAILURES) revocationFailure?: RevocationFailure;
  @IsOptional() @IsInt() @Min(1000) @Max(86_400_000) revocationRefreshMs?: number;
  @IsOptional() @IsInt() @Min(100) @Max(60_000) revocationTimeoutMs?: number;
  @IsOptional() @IsBoolean() needClientAuth?: boolean;
  @IsOptional() @IsBoolean() validatePeers?: boolean;
  @IsOptional() @IsBoolean() validateCerts?: boolean;
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true }) supportedProtocols?: string[];
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true }) supportedCipherSuites?: string[];
  @IsOptional() @IsGroupList() groups?: string | string[];
  @IsOptional() @IsBoolean() allowRenegotiation?: boolean;
  @IsOptional() @IsInt() @Min(100) @Max(600_000) handshakeTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(100) @Max(600_000) requestHeaderTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1000) @Max(86_400_000) requestTimeoutMs?: number;
  @IsOptional() @IsBoolean() watch?: boolean;
  @IsOptional() @IsInt() @Min(1000) @Max(86_400_000) reloadIntervalMs?: number;
  @IsOptional() @IsInt(SECURITY_LEVEL) @Min(2, SECURITY_LEVEL) @Max(5, SECURITY_LEVEL) securityLevel?: number;
  @IsOptional() @IsIn(['any-verified', 'deny'], oneOf('any-verified', 'deny')) defaultPolicy?: DefaultPolicy;
  @IsOptional() @IsIn(['enforce', 'audit'], oneOf('enforce', 'audit')) policyMode?: PolicyMode;
  @IsOptional() @IsString(oneOf('x-forwarded-client-cert', 'client-cert')) @Matches(/^(x-forwarded-client-cert|client-cert)$/i, oneOf('x-forwarded-client-cert', 'client-cert'))
  forwardedCertHeader?: ForwardedCertHeader;
  /** A RegExp, string, rule or function: compiled (and its values checked) by validateMtlsOptions. */
  @IsOptional() @Allow() trustedProxy?: ClientCertRequirement;
  /** Shape checked by checkMaterialSource (an object with read()). */
  @IsOptional() @Allow() source?: MtlsPemSource;
  @IsOptional() @IsString(oneOf('HTTPS')) @Matches(/^https$/i, oneOf('HTTPS')) endpointIdentification?: EndpointIdentification;
  @IsOptional() @IsIn(['rfc4514', 'jdk'], oneOf('rfc4514', 'jdk')) dnFormat?: DnFormat;
}

function oneOf(...values: string[]): ValidationOptions {
  return { message: (args: ValidationArguments) => `${args.property} must be ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, got ${JSON.stringify(args.value)}` };
}
