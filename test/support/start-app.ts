import { Module, type INestApplication, type LoggerService, type Provider, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { MtlsExpressAdapter, MtlsModule, type MtlsOptions } from 'nest-mtls';
import { MtlsFastifyAdapter } from 'nest-mtls/fastify';
import { UserServiceModule } from '../../apps/user-service/src/user-service.module';
import { PASSWORD, type TestPki } from './test-pki';

/** Keeps what the app logs, so tests can assert on it. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(m: unknown) { this.lines.push(`LOG ${String(m)}`); }
  error(m: unknown) { this.lines.push(`ERROR ${String(m)}`); }
  warn(m: unknown) { this.lines.push(`WARN ${String(m)}`); }
  debug() {}
  verbose() {}
}

/** The HTTP adapters nest-mtls serves through; every end-to-end test of HTTP behaviour runs on each (`describe.each(HTTP_ADAPTERS)`). */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;

/** One of HTTP_ADAPTERS. */
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** For `describe.each` over a table and both adapters: every row once per adapter, the adapter's name first (`'%s: ...'`). */
export function eachAdapter<Row extends unknown[]>(rows: Row[]): [HttpAdapterName, ...Row][] {
  return HTTP_ADAPTERS.flatMap((adapter) => rows.map((row): [HttpAdapterName, ...Row] => [adapter, ...row]));
}

/** A new mTLS adapter: MtlsExpressAdapter (nest-mtls) or MtlsFastifyAdapter (nest-mtls/fastify). */
export function mtlsAdapter(adapter: HttpAdapterName): MtlsExpressAdapter | MtlsFastifyAdapter {
  return adapter === 'fastify' ? new MtlsFastifyAdapter() : new MtlsExpressAdapter();
}

export interface RunningApp {
  app: INestApplication;
  port: number;
  logs: CapturingLogger;
  /** The adapter it serves through. */
  adapter: HttpAdapterName;
  close(): Promise<void>;
}

/**
 * Starts a Nest app serving mTLS through the adapter (MtlsExpressAdapter by
 * default, or MtlsFastifyAdapter) on 127.0.0.1, on a free port, the way Nest
 * users write e2e tests: a TestingModule, then createNestApplication with the
 * adapter.
 */
export async function startMtlsApp(module: unknown, adapter: HttpAdapterName = 'express'): Promise<RunningApp> {
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [module as Type] }).setLogger(logs).compile();
  const app = moduleRef.createNestApplication(mtlsAdapter(adapter), { logger: logs, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, logs, adapter, close: () => app.close() };
}

/** Starts an app with `MtlsModule.forRoot(options)` (the synchronous form), `controllers` and `providers`, on `adapter`. */
export function startWithOptions(options: MtlsOptions, controllers: Type[], providers: Provider[] = [], adapter: HttpAdapterName = 'express'): Promise<RunningApp> {
  @Module({ imports: [MtlsModule.forRoot(options)], controllers, providers })
  class TestAppModule {}
  return startMtlsApp(TestAppModule, adapter);
}

/**
 * Starts the real user-service module, configured as in production through
 * MTLS_* variables: its PKCS#12 from `pki`, the trust store, and `env` on top;
 * on `adapter`, as `HTTP_ADAPTER` chooses it in its main.ts.
 * process.env is restored when the app closes.
 */
export async function startUserService(pki: TestPki, env: Record<string, string> = {}, adapter: HttpAdapterName = 'express'): Promise<RunningApp> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12,
    MTLS_KEY_STORE_PASSWORD: PASSWORD,
    MTLS_TRUST_STORE_PATH: pki.trustStore,
    ...env,
  });
  try {
    const running = await startMtlsApp(UserServiceModule, adapter);
    return {
      ...running,
      close: async () => {
        await running.close();
        process.env = saved;
      },
    };
  } catch (err) {
    process.env = saved;
    throw err;
  }
}
