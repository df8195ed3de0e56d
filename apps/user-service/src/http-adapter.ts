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
 * Whether a variable such as HTTP2 asks for HTTP/2 (`true`/`false`, unset is
 * false), or an Error naming the variable: for another value, and for `true`
 * with Express (only MtlsFastifyAdapter serves HTTP/2).
 */
export function http2Setting(name: string, value: string | undefined, adapter: HttpAdapterName): boolean {
  const text = value?.trim().toLowerCase() || 'false';
  if (text !== 'true' && text !== 'false') throw new Error(`${name}: expected true or false, got "${value}"`);
  if (text === 'true' && adapter !== 'fastify') throw new Error(`${name}: HTTP/2 is served by the Fastify adapter only (HTTP_ADAPTER=fastify), not by ${adapter}`);
  return text === 'true';
}

/**
 * A new mTLS adapter of that name, serving HTTP/2 (with HTTP/1.1 on the same
 * port) when `http2`. nest-mtls/fastify (and with it
 * @nestjs/platform-fastify) is loaded only when Fastify is asked for.
 */
export async function createMtlsAdapter(adapter: HttpAdapterName, http2 = false): Promise<AbstractHttpAdapter> {
  if (adapter === 'fastify') {
    const { MtlsFastifyAdapter } = await import('nest-mtls/fastify');
    return new MtlsFastifyAdapter(http2 ? { http2: true } : {});
  }
  return new MtlsExpressAdapter();
}
