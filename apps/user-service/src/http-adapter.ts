import type { AbstractHttpAdapter } from '@nestjs/core';
import { MtlsExpressAdapter } from 'nest-mtls';

/** The HTTP adapters user-service can serve through. */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;

/** One of HTTP_ADAPTERS. */
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** The adapter named by a variable such as HTTP_ADAPTER (`express` when unset), or an Error naming the variable. */
export function httpAdapterSetting(name: string, value: string | undefined): HttpAdapterName {
  const adapter = value?.trim() || 'express';
  if (!(HTTP_ADAPTERS as readonly string[]).includes(adapter)) throw new Error(`${name}: expected one of ${HTTP_ADAPTERS.join(', ')}, got "${value}"`);
  return adapter as HttpAdapterName;
}

/**
 * A new mTLS adapter of that name. nest-mtls/fastify (and with it
 * @nestjs/platform-fastify) is loaded only when Fastify is asked for.
 */
export async function createMtlsAdapter(adapter: HttpAdapterName): Promise<AbstractHttpAdapter> {
  if (adapter === 'fastify') {
    const { MtlsFastifyAdapter } = await import('nest-mtls/fastify');
    return new MtlsFastifyAdapter();
  }
  return new MtlsExpressAdapter();
}
