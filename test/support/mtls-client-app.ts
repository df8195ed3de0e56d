import { Module, type Abstract, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MtlsHttpClient, MtlsModule, type MtlsOptions } from 'nest-mtls';

/** An application context whose only module is MtlsModule with `options`: the client side of a test. */
export interface MtlsClientApp {
  client: MtlsHttpClient;
  /** Resolves a provider of the context (e.g. an internal one a test inspects). */
  get<T>(token: Type<T> | Abstract<T>): T;
  close(): Promise<void>;
}

/** MtlsHttpClient of a throwaway Nest application holding `options` (no logger). */
export async function mtlsClientApp(options: MtlsOptions): Promise<MtlsClientApp> {
  @Module({ imports: [MtlsModule.forRoot(options)] })
  class ClientModule {}
  const ctx = await NestFactory.createApplicationContext(ClientModule, { logger: false });
  return { client: await ctx.resolve(MtlsHttpClient), get: (token) => ctx.get(token), close: () => ctx.close() };
}

/** One `getJson(url)` from a throwaway client app with `options`: the answer, or the error it threw. */
export async function getJsonOnce(options: MtlsOptions, url: string): Promise<unknown> {
  const app = await mtlsClientApp(options);
  try {
    return await app.client.getJson(url);
  } catch (err) {
    return err;
  } finally {
    await app.close();
  }
}
