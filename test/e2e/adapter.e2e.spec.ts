import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { MtlsExpressAdapter, MtlsHttpClient, MtlsModule, RequireClientCert } from 'nest-mtls';
import type { AddressInfo } from 'node:net';
import { UserServiceModule } from '../../apps/user-service/src/user-service.module';
import { CapturingLogger } from '../support/start-app';
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

/**
 * The joint between MtlsModule and the adapter: the adapter's server is made
 * fail-closed; the module installs its material when the application
 * initialises, under NestFactory and under @nestjs/testing alike; the adapter
 * never serves without it; the certificate's EKU is checked for the roles in use.
 */
describe('MtlsExpressAdapter and MtlsModule', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('serves the application through @nestjs/testing, the way Nest documents e2e tests', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12, MTLS_KEY_STORE_PASSWORD: PASSWORD, MTLS_TRUST_STORE_PATH: pki.trustStore });
    const moduleRef = await Test.createTestingModule({ imports: [UserServiceModule] }).compile();
    const app = moduleRef.createNestApplication(new MtlsExpressAdapter(), { logger: false });
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
    const app = await NestFactory.create(NoMtlsModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false });
    try {
      await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/^MtlsExpressAdapter: no MtlsModule material was installed: import MtlsModule.forRoot\(\)/);
      expect(app.getHttpServer().listening).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('is fail-closed before the module installs its material: a server listened on directly completes no handshake', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false });
    const server = app.getHttpServer();
    try {
      // Skipping app.init(): nothing installed the material yet.
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      expect(await handshakeOutcome((server.address() as AddressInfo).port, pki.clientTls('home-page-service'), '/whoami')).toBe('refused');
      await app.init();
      expect(await handshakeOutcome((server.address() as AddressInfo).port, pki.clientTls('home-page-service'), '/whoami')).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses httpsOptions given a second time to NestFactory.create', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))] })
    class AppModule {}
    const httpsOptions = { key: pki.certs['user-service'].issued.keyPem, cert: pki.certs['user-service'].issued.chainPem };
    await expect(NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false, httpsOptions })).rejects.toThrow(
      /do not pass httpsOptions to NestFactory.create; MtlsModule supplies them/,
    );
  });

  it('a plain adapter: a loud warning that the application does not serve mutual TLS, and guarded routes refuse', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))], controllers: [WhoamiController] })
    class AppModule {}
    const logs = new CapturingLogger();
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: logs, abortOnError: false });
    try {
      await app.listen(0, '127.0.0.1');
      expect(logs.lines.some((l) => /^WARN this application imports MtlsModule but serves through ExpressAdapter: it does NOT serve mutual TLS/.test(l))).toBe(true);
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
    const app = await NestFactory.create(CallerModule, new ExpressAdapter(), { logger: logs, abortOnError: false });
    try {
      await app.listen(0, '127.0.0.1');
      expect(logs.lines.some((l) => /does NOT serve mutual TLS/.test(l))).toBe(false);
      expect(logs.lines.some((l) => /^LOG serving through ExpressAdapter without mutual TLS, as configured \(MtlsModule serve: false\)/.test(l))).toBe(true);
    } finally {
      await app.close();
    }
  });

  describe('roles: EKU checks for what the application does', () => {
    @Injectable()
    class CallsOut {
      constructor(readonly http: MtlsHttpClient) {}
    }

    it('serving needs serverAuth: a clientAuth-only certificate does not start serving, and says why', async () => {
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('client-only-eku'))] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false });
      try {
        await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/^certPath: the certificate CN=user-service .* lacks the serverAuth extended key usage/);
      } finally {
        await app.close();
      }
    });

    it('a serverAuth-only certificate serves when nothing calls out', async () => {
      await pki.issue('server-only-localhost', { subject: 'CN=user-service,O=nest-mtls', extendedKeyUsage: ['serverAuth'], dns: ['localhost'], ip: ['127.0.0.1'] });
      @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('server-only-localhost'))], controllers: [WhoamiController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false });
      try {
        await app.listen(0, '127.0.0.1');
        expect((await httpsGet((app.getHttpServer().address() as AddressInfo).port, '/whoami', pki.clientTls('home-page-service'))).status).toBe(200);
      } finally {
        await app.close();
      }
    });

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
});
