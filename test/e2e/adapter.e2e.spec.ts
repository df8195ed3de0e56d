import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { MtlsConfigError, MtlsHttpClient, MtlsModule, RequireClientCert } from 'nest-mtls';
import { MtlsFastifyAdapter, type MtlsFastifyAdapterOptions } from 'nest-mtls/fastify';
import dns from 'node:dns';
import { connect, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { UserServiceModule } from '../../apps/user-service/src/user-service.module';
import { CapturingLogger, HTTP_ADAPTERS, mtlsAdapter } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { handshakeOutcome, httpsGet } from '../support/tls-probe';

@Controller('whoami')
class WhoamiController {
  @Get()
  @RequireClientCert()
  whoami() {
    return { ok: true };
  }
}

const ADAPTER_CLASS = { express: 'MtlsExpressAdapter', fastify: 'MtlsFastifyAdapter' } as const;
const PLAIN_ADAPTER = { express: () => new ExpressAdapter(), fastify: () => new FastifyAdapter() };

/**
 * The joint between MtlsModule and the adapter: the adapter's server is made
 * fail-closed; the module installs its material when the application
 * initialises, under NestFactory and under @nestjs/testing alike; the adapter
 * never serves without it; the certificate's EKU is checked for the roles in
 * use. The same contract on Express and on Fastify.
 */
describe('the mTLS adapters and MtlsModule', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  describe.each(HTTP_ADAPTERS)('%s', (adapter) => {
    it('serves the application through @nestjs/testing, the way Nest documents e2e tests', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, { MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12, MTLS_KEY_STORE_PASSWORD: PASSWORD, MTLS_TRUST_STORE_PATH: pki.trustStore });
      const moduleRef = await Test.createTestingModule({ imports: [UserServiceModule] }).compile();
      const app = moduleRef.createNestApplication(mtlsAdapter(adapter), { logger: false });
      try {
        await app.listen(0, '127.0.0.1');
        const port = (app.getHttpServer().address() as AddressInfo).port;
        expect((await httpsGet(port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
        expect((await httpsGet(port, '/users/1', pki.clientTls('event-service'))).status).toBe(403);
        expect(await handshakeOutcome(port, pki.clientTls())).toBe('refused');
      } finally {
        await app.close();
        process.env = saved;
      }
    });

    it('refuses to listen without MtlsModule instead of falling back to plain HTTP', async () => {
      @Module({})
      class NoMtlsModule {}
      const app = await NestFactory.create(NoMtlsModule, mtlsAdapter(adapter), { logger: false, abortOnError: false });
      try {
        await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(new RegExp(`^${ADAPTER_CLASS[adapter]}: no MtlsModule material was installed: import MtlsModule.forRoot\\(\\)`));
        expect(app.getHttpServer().listening).toBe(false);
      } finally {
        await app.close();
      }
    });

    it('is fail-closed before the module installs its material: a server listened on directly completes no handshake', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, mtlsAdapter(adapter), { logger: false, abortOnError: false });
      const server = app.getHttpServer();
      try {
        // Skipping app.init(): nothing installed the material yet.
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        expect(await handshakeOutcome((server.address() as AddressInfo).port, pki.clientTls('home-page-service'), '/whoami')).toBe('refused');
        await app.init();
        // Fastify serves requests only once ready (its listen() waits for that; listening on its server directly does not).
        if (adapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
        expect(await handshakeOutcome((server.address() as AddressInfo).port, pki.clientTls('home-page-service'), '/whoami')).toBe(200);
      } finally {
        await app.close();
        server.close(); // Fastify closes only a server it listened on itself
      }
    });

    it('refuses httpsOptions given a second time to NestFactory.create', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))] })
      class AppModule {}
      const httpsOptions = { key: pki.certs['user-service'].issued.keyPem, cert: pki.certs['user-service'].issued.chainPem };
      await expect(NestFactory.create(AppModule, mtlsAdapter(adapter), { logger: false, abortOnError: false, httpsOptions })).rejects.toThrow(
        /do not pass httpsOptions to NestFactory.create; MtlsModule supplies them/,
      );
    });

    it('a plain adapter: a loud warning that the application does not serve mutual TLS, and guarded routes refuse', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
      class AppModule {}
      const logs = new CapturingLogger();
      const app = await NestFactory.create(AppModule, PLAIN_ADAPTER[adapter](), { logger: logs, abortOnError: false });
      try {
        await app.listen(0, '127.0.0.1');
        const plain = adapter === 'fastify' ? 'FastifyAdapter' : 'ExpressAdapter';
        expect(logs.lines.some((l) => l.startsWith(`WARN this application imports MtlsModule but serves through ${plain}: it does NOT serve mutual TLS`))).toBe(true);
        const port = (app.getHttpServer().address() as AddressInfo).port;
        const res = await fetch(`http://127.0.0.1:${port}/whoami`);
        expect(res.status).toBe(403);
        expect(await res.json()).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
      } finally {
        await app.close();
      }
    });

    it('a plain adapter in an application that only calls out (serve: false): no warning, a plain log line', async () => {
      @Module({ imports: [MtlsModule.forRoot({ ...pki.pemOptions('home-page-service'), serve: false })] })
      class CallerModule {}
      const logs = new CapturingLogger();
      const plain = PLAIN_ADAPTER[adapter]();
      const app = await NestFactory.create(CallerModule, plain, { logger: logs, abortOnError: false });
      try {
        await app.listen(0, '127.0.0.1');
        expect(logs.lines.some((l) => /does NOT serve mutual TLS/.test(l))).toBe(false);
        expect(logs.lines.some((l) => l.startsWith(`LOG serving through ${plain.constructor.name} without mutual TLS, as configured (MtlsModule serve: false)`))).toBe(true);
      } finally {
        await app.close();
      }
    });

    it('answers without framework banner headers (no X-Powered-By)', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, mtlsAdapter(adapter), { logger: false, abortOnError: false });
      try {
        await app.listen(0, '127.0.0.1');
        const res = await httpsGet((app.getHttpServer().address() as AddressInfo).port, '/whoami', pki.clientTls('home-page-service'));
        expect(res.status).toBe(200);
        expect(res.headers['x-powered-by']).toBeUndefined();
        expect(res.headers.server).toBeUndefined();
      } finally {
        await app.close();
      }
    });

    it('roles: serving needs serverAuth: a clientAuth-only certificate does not start serving, and says why', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('client-only-eku'))] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, mtlsAdapter(adapter), { logger: false, abortOnError: false });
      try {
        await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/^certPath: the certificate CN=user-service .* lacks the serverAuth extended key usage/);
      } finally {
        await app.close();
      }
    });

    it('roles: a serverAuth-only certificate serves when nothing calls out', async () => {
      await pki.issue(`server-only-localhost-${adapter}`, { subject: 'CN=user-service,O=nest-mtls', extendedKeyUsage: ['serverAuth'], dns: ['localhost'], ip: ['127.0.0.1'] });
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions(`server-only-localhost-${adapter}`))], controllers: [WhoamiController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, mtlsAdapter(adapter), { logger: false, abortOnError: false });
      try {
        await app.listen(0, '127.0.0.1');
        expect((await httpsGet((app.getHttpServer().address() as AddressInfo).port, '/whoami', pki.clientTls('home-page-service'))).status).toBe(200);
      } finally {
        await app.close();
      }
    });
  });

  describe('roles: EKU checks for what the application does', () => {
    @Injectable()
    class CallsOut {
      constructor(readonly http: MtlsHttpClient) {}
    }

    it('calling out needs clientAuth: injecting MtlsHttpClient with a serverAuth-only certificate stops startup', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('server-only-eku'))], providers: [CallsOut] })
      class AppModule {}
      await expect(NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false })).rejects.toThrow(
        /^certPath: the certificate CN=home-page-service .* lacks the clientAuth extended key usage/,
      );
    });

    it('a clientAuth-only certificate calls out when nothing serves', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('client-only-eku'))], providers: [CallsOut] })
      class AppModule {}
      const ctx = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
      try {
        expect(ctx.get(CallsOut).http).toBeInstanceOf(MtlsHttpClient);
      } finally {
        await ctx.close();
      }
    });
  });

  describe('MtlsFastifyAdapter: the server is always its own', () => {
    it.each<[string, unknown]>([
      ['https', { https: { key: 'k', cert: 'c' } }],
      ['http', { http: {} }],
      ['serverFactory', { serverFactory: () => undefined }],
    ])('refuses Fastify options that would make another server: %s', (key, options) => {
      expect(() => new MtlsFastifyAdapter(options as MtlsFastifyAdapterOptions)).toThrow(MtlsConfigError);
      expect(() => new MtlsFastifyAdapter(options as MtlsFastifyAdapterOptions)).toThrow(`MtlsFastifyAdapter: do not pass "${key}" to MtlsFastifyAdapter`);
    });

    it.each<[string, unknown, string]>([
      ['a misspelt HTTP/2 setting', { http2: { allowHttp1: false } }, 'MtlsFastifyAdapter http2.allowHttp1: is not an HTTP/2 setting of MtlsFastifyAdapter; did you mean "allowHTTP1"?'],
      ['maxConcurrentStreams 0', { http2: { maxConcurrentStreams: 0 } }, 'http2.maxConcurrentStreams: must be a whole number from 1 to 10000, got 0'],
      ['http2 as a string', { http2: 'yes' }, 'http2: must be true, false or { allowHTTP1?, maxConcurrentStreams? }, got "yes"'],
      ['http2SessionTimeout without http2', { http2SessionTimeout: 1000 }, 'http2SessionTimeout applies to HTTP/2 sessions: set http2: true too'],
    ])('refuses %s, naming the setting (HTTP/2 is its own option, http2)', (_what, options, message) => {
      expect(() => new MtlsFastifyAdapter(options as MtlsFastifyAdapterOptions)).toThrow(MtlsConfigError);
      expect(() => new MtlsFastifyAdapter(options as MtlsFastifyAdapterOptions)).toThrow(message);
    });

    it("refuses Fastify's requestTimeout, naming MtlsModule's requestTimeoutMs (one deadline for both adapters)", () => {
      expect(() => new MtlsFastifyAdapter({ requestTimeout: 0 } as MtlsFastifyAdapterOptions)).toThrow(
        new MtlsConfigError('MtlsFastifyAdapter', `do not pass "requestTimeout" to MtlsFastifyAdapter; set MtlsModule's requestTimeoutMs (MTLS_REQUEST_TIMEOUT_MS), which both adapters apply`),
      );
    });

    it('refuses a Fastify instance made elsewhere', () => {
      const instance = new FastifyAdapter().getInstance();
      expect(() => new MtlsFastifyAdapter(instance as unknown as MtlsFastifyAdapterOptions)).toThrow(/^MtlsFastifyAdapter: takes Fastify server options, not a Fastify instance/);
    });

    it('passes its other options to Fastify (bodyLimit)', () => {
      expect(new MtlsFastifyAdapter({ bodyLimit: 1234 }).getInstance().initialConfig.bodyLimit).toBe(1234);
    });

    /** Fastify binds one more server per other address of 'localhost'; here localhost is both 127.0.0.1 and ::1. */
    async function listenOnTwoAddressLocalhost(app: { listen(port: number, host: string): Promise<unknown> }): Promise<void> {
      const original = dns.lookup;
      const lookup = jest.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, callback?: (...a: unknown[]) => void) => {
        if (host !== 'localhost') return (original as (...a: unknown[]) => void)(host, options, callback);
        const done = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
        const all = typeof options === 'object' && (options as { all?: boolean } | null)?.all;
        if (all) done(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
        else done(null, '127.0.0.1', 4);
      }));
      try {
        await app.listen(0, 'localhost');
      } finally {
        lookup.mockRestore();
      }
    }

    // Needs an IPv6 loopback for Fastify's second server (the control) to bind.
    const ipv6Loopback = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === '::1'));
    (ipv6Loopback ? it : it.skip)("listening on localhost binds no second server that MtlsModule never configured (Fastify binds one per address of 'localhost' otherwise)", async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
      class AppModule {}
      // The control: a plain FastifyAdapter listens on both addresses.
      const plain = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false, abortOnError: false });
      try {
        await listenOnTwoAddressLocalhost(plain);
        expect((plain.getHttpAdapter().getInstance() as { addresses(): unknown[] }).addresses()).toHaveLength(2);
      } finally {
        await plain.close();
      }
      const app = await NestFactory.create(AppModule, new MtlsFastifyAdapter(), { logger: false, abortOnError: false });
      try {
        await listenOnTwoAddressLocalhost(app);
        expect((app.getHttpAdapter().getInstance() as { addresses(): unknown[] }).addresses()).toHaveLength(1);
        const port = (app.getHttpServer().address() as AddressInfo).port;
        expect(await handshakeOutcome(port, pki.clientTls('home-page-service'), '/whoami')).toBe(200);
        // Nothing listens on the other address: no server without the material and the hardening.
        const other = await new Promise<string>((resolve) => connect({ host: '::1', port }).once('connect', function (this: import('node:net').Socket) { this.destroy(); resolve('connected'); }).once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')));
        expect(other).toBe('ECONNREFUSED');
      } finally {
        await app.close();
      }
    });
  });
});
