import { Injectable, Logger, Optional, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { PolicyMode } from '../config/mtls-options.interface';
import { MtlsMaterialSource } from '../material/material-source';
import { anyVerifiedClient, denyEveryClient } from '../policy/client-cert-policies';
import type { ClientCertPolicy } from '../policy/client-cert-policy';
import { CLIENT_CERT_MODE, CLIENT_CERT_POLICY } from './client-cert.constants';
import { ClientCertGuard } from './client-cert.guard';
import { describePolicy } from '../policy/policy-explanation';

/** Nest's metadata keys (@nestjs/common's constants; the pattern one read without loading @nestjs/microservices). */
const PATTERN_METADATA = 'microservices:pattern';
const GUARDS_METADATA = '__guards__';
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/** One route or message pattern, and who may call it, in words. */
export interface PolicyInventoryEntry {
  /** `http` for a route, `rpc` for a message or event pattern. */
  transport: 'http' | 'rpc';
  /** `GET /users/:id` (without a global prefix), or the pattern as JSON: `{"cmd":"get_user"}`. */
  route: string;
  /** `UsersController.findOne` */
  handler: string;
  /** Whether ClientCertGuard (or a subclass) judges it: @RequireClientCert, @UseGuards, or a global APP_GUARD. */
  guarded: boolean;
  /** Who may call it: `SPIFFE ID is spiffe://example.org/home-page-service`; for an unguarded route, that nothing is checked beyond the handshake. */
  policy: string;
  /** `enforce`, or `audit` (refusals logged, not enforced). */
  mode: PolicyMode;
}

type Guard = unknown;

function isClientCertGuard(guard: Guard): boolean {
  if (typeof guard === 'function') return guard === ClientCertGuard || guard.prototype instanceof ClientCertGuard;
  return guard instanceof ClientCertGuard;
}

function joinPaths(...parts: Array<string | undefined>): string {
  const joined = parts
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p.length > 0)
    .join('/');
  return `/${joined}`;
}

const asList = (value: unknown): unknown[] => (value === undefined ? [undefined] : Array.isArray(value) ? (value.length ? value : [undefined]) : [value]);

/**
 * Every route and message pattern of the application with its client
 * certificate policy in words, as ClientCertGuard applies it: the handler's
 * or controller's `@RequireClientCert`, else the module's `defaultPolicy`
 * under a global guard, and its mode. Logged at debug level when the
 * application starts; `list()` is what an admin endpoint (`GET /policies`)
 * serves. A guard registered with `app.useGlobalGuards()` is not seen
 * (register it as `APP_GUARD` instead).
 */
@Injectable()
export class MtlsPolicyInventory implements OnApplicationBootstrap {
  private readonly logger = new Logger('MtlsPolicyInventory');
  private entries?: PolicyInventoryEntry[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Optional() private readonly source?: MtlsMaterialSource,
  ) {}

  onApplicationBootstrap(): void {
    const entries = this.list();
    if (entries.length === 0) return;
    // One record per line (a log line never spans several): the count, then each route.
    this.logger.debug(`client certificate policies of ${entries.length} route(s) and message pattern(s):`);
    for (const line of formatInventory(entries).split('\n')) this.logger.debug(line);
  }

  /** The inventory (computed once the application has started; routes do not change afterwards). */
  list(): PolicyInventoryEntry[] {
    this.entries ??= this.build();
    return this.entries.map((e) => ({ ...e }));
  }

  private build(): PolicyInventoryEntry[] {
    const globalGuard = this.discovery
      .getProviders()
      .some((wrapper) => typeof wrapper.token === 'string' && wrapper.token.startsWith('APP_GUARD') && (isClientCertGuard(wrapper.instance) || isClientCertGuard(wrapper.metatype)));
    const options = this.source?.current().options;
    const fallback: ClientCertPolicy = options?.defaultPolicy === 'deny' ? denyEveryClient : anyVerifiedClient;
    const out: PolicyInventoryEntry[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as object;
      const classGuards = (Reflect.getMetadata(GUARDS_METADATA, controller) as Guard[] | undefined) ?? [];
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        const patterns = Reflect.getMetadata(PATTERN_METADATA, handler) as unknown;
        if (path === undefined && patterns === undefined) continue;
        const handlerGuards = (Reflect.getMetadata(GUARDS_METADATA, handler) as Guard[] | undefined) ?? [];
        const guarded = globalGuard || [...classGuards, ...handlerGuards].some(isClientCertGuard);
        const declared = this.reflector.getAllAndOverride<ClientCertPolicy | undefined>(CLIENT_CERT_POLICY, [handler, controller]);
        const mode = this.reflector.getAllAndOverride<PolicyMode | undefined>(CLIENT_CERT_MODE, [handler, controller]) ?? options?.policyMode ?? 'enforce';
        const policy = guarded ? describePolicy(declared ?? fallback, options?.dnFormat) : 'not checked: no ClientCertGuard (any certificate the TLS handshake accepts)';
        const where = `${controller.name}.${name}`;
        if (path !== undefined) {
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod] ?? 'GET';
          for (const base of asList(Reflect.getMetadata(PATH_METADATA, controller))) {
            for (const own of asList(path)) out.push({ transport: 'http', route: `${method} ${joinPaths(base as string, own as string)}`, handler: where, guarded, policy, mode });
          }
        }
        if (patterns !== undefined) {
          for (const pattern of Array.isArray(patterns) ? patterns : [patterns]) {
            out.push({ transport: 'rpc', route: patternLabel(pattern), handler: where, guarded, policy, mode });
          }
        }
      }
    }
    return out;
  }
}

/**
 * How a message pattern is listed: a string as it is, a @GrpcMethod's
 * (`{ service, rpc, streaming }`) as `Service/Method` (its package is the
 * server's option, not the handler's), any other as JSON.
 */
function patternLabel(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  const grpc = pattern as { service?: unknown; rpc?: unknown } | null;
  if (typeof grpc?.service === 'string' && typeof grpc.rpc === 'string' && 'streaming' in grpc) return `${grpc.service}/${grpc.rpc}`;
  return JSON.stringify(pattern);
}

/** The inventory as text, a line per route: `GET /users/:id  SPIFFE ID is ... (enforce)`. */
export function formatInventory(entries: PolicyInventoryEntry[]): string {
  const width = Math.max(...entries.map((e) => e.route.length + (e.transport === 'rpc' ? 4 : 0)));
  return entries
    .map((e) => `  ${(e.transport === 'rpc' ? `RPC ${e.route}` : e.route).padEnd(width)}  ${e.policy}${e.mode === 'audit' ? ' [audit: not enforced]' : ''} (${e.handler})`)
    .join('\n');
}
