import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { withEnvVariable } from '../config/env-origin';
import { MtlsConfigError } from '../errors/mtls-config.error';
import type { ResolvedMtlsOptions } from '../config/mtls-options.interface';
import { MtlsMaterialSource } from '../material/material-source';
import type { ClientCertPolicy } from '../policy/client-cert-policy';
import { CLIENT_CERT_POLICY } from './client-cert.constants';
import { checkPolicyDnPatterns } from '../policy/dn-pattern';

/**
 * Startup check of every `@RequireClientCert` (on controllers and handlers,
 * HTTP routes and message patterns alike) against the module's `dnFormat`:
 * under `jdk`, a DN regex given as a string is a Java regex, and one with
 * syntax JavaScript cannot match exactly (a possessive quantifier, an atomic
 * group, `\p{...}`, ...) stops the application before it listens, naming the
 * route and the construct; under `rfc4514`, a string that is no JavaScript
 * regex does. Nothing is left to fail at the first request.
 */
@Injectable()
export class MtlsDnPatternCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Optional() private readonly source?: MtlsMaterialSource,
  ) {}

  onModuleInit(): void {
    const options = this.source?.current().options;
    if (!options) return;
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller) continue;
      this.check(Reflect.getMetadata(CLIENT_CERT_POLICY, controller) as ClientCertPolicy | undefined, `@RequireClientCert on ${controller.name}`, options);
      for (const name of this.scanner.getAllMethodNames(controller.prototype as object)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler === 'function') this.check(Reflect.getMetadata(CLIENT_CERT_POLICY, handler) as ClientCertPolicy | undefined, `@RequireClientCert on ${controller.name}.${name}`, options);
      }
    }
  }

  private check(policy: ClientCertPolicy | undefined, where: string, options: ResolvedMtlsOptions): void {
    if (typeof policy !== 'function') return;
    try {
      checkPolicyDnPatterns(policy, options.dnFormat, where);
    } catch (err) {
      throw withEnvVariable(new MtlsConfigError('dnFormat', (err as Error).message), options);
    }
  }
}
