import { Module, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { request } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { MtlsMaterialSource, MtlsModule, type MtlsOptions } from 'nest-mtls';
import { MtlsAdminModule, MtlsAdminServer, type MtlsAdminOptions } from 'nest-mtls/admin';
import { mtlsTcpMicroservice } from 'nest-mtls/microservices';
import { CapturingLogger, mtlsAdapter, type HttpAdapterName } from './start-app';

/** An application with MtlsModule, the admin port and (optionally) a TCP microservice, on free loopback ports. */
export interface AdminApp {
  app: INestApplication;
  /** The mTLS (HTTPS) port. */
  port: number;
  /** The TCP microservice's port, when started with `tcp: true`. */
  tcpPort?: number;
  /** The admin port, when it listens. */
  adminPort?: number;
  source: MtlsMaterialSource;
  logs: CapturingLogger;
  close(): Promise<void>;
}

/** Starts `controllers` behind MtlsModule.forRoot(options) and MtlsAdminModule.forRoot(admin) (default: a free admin port), on Express unless `adapter` says otherwise. */
export async function startAdminApp(
  options: MtlsOptions,
  controllers: Type[],
  { admin = { port: 0 }, tcp = false, providers = [], adapter = 'express' }: { admin?: MtlsAdminOptions; tcp?: boolean; providers?: Type[]; adapter?: HttpAdapterName } = {},
): Promise<AdminApp> {
  @Module({ imports: [MtlsModule.forRoot(options), MtlsAdminModule.forRoot(admin)], controllers, providers })
  class AdminTestModule {}
  const logs = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({ imports: [AdminTestModule] }).setLogger(logs).compile();
  const app = moduleRef.createNestApplication(mtlsAdapter(adapter), { logger: logs, abortOnError: false });
  let tcpPort: number | undefined;
  if (tcp) {
    app.connectMicroservice(mtlsTcpMicroservice({ host: '127.0.0.1', port: 0 }), { inheritAppConfig: true });
    await app.startAllMicroservices();
    tcpPort = (app.getMicroservices()[0].unwrap<Server>().address() as AddressInfo).port;
  }
  await app.listen(0, '127.0.0.1');
  return {
    app,
    port: (app.getHttpServer().address() as AddressInfo).port,
    tcpPort,
    adminPort: app.get(MtlsAdminServer).address()?.port,
    source: app.get(MtlsMaterialSource),
    logs,
    close: () => app.close(),
  };
}

/** One plain-HTTP request to the admin port. */
export function adminGet(port: number, path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string; json?: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** One sample of Prometheus' text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus' text exposition format (the lines that are samples). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
export function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Every sample of `name`. */
export function samplesOf(samples: Sample[], name: string): Sample[] {
  return samples.filter((s) => s.name === name);
}

/** GET /metrics on the admin port, parsed. */
export async function scrape(adminPort: number): Promise<Sample[]> {
  const res = await adminGet(adminPort, '/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(res.body);
}
