import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { MtlsExpressAdapter } from 'nest-mtls';

/** Keeps what the app logs, so tests can assert on it. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(m: unknown) { this.lines.push(`LOG ${String(m)}`); }
  error(m: unknown) { this.lines.push(`ERROR ${String(m)}`); }
  warn(m: unknown) { this.lines.push(`WARN ${String(m)}`); }
  debug() {}
  verbose() {}
}

export interface RunningApp {
  app: INestApplication;
  port: number;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/** Starts a Nest app serving mTLS through MtlsExpressAdapter on 127.0.0.1, on a free port. */
export async function startMtlsApp(module: unknown): Promise<RunningApp> {
  const logs = new CapturingLogger();
  const app = await NestFactory.create(module as never, new MtlsExpressAdapter(), { logger: logs, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, logs, close: () => app.close() };
}
