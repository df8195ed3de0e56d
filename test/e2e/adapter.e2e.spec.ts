import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MtlsExpressAdapter, MtlsModule } from 'nest-mtls';
import { TestPki } from '../support/test-pki';

/** The adapter never serves without MtlsModule, and the options are written in one place only. */
describe('MtlsExpressAdapter', () => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('refuses to start without MtlsModule instead of falling back to plain HTTP', async () => {
    @Module({})
    class NoMtlsModule {}
    await expect(NestFactory.create(NoMtlsModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false })).rejects.toThrow(
      /MtlsExpressAdapter: no MtlsModule in the application/,
    );
  });

  it('refuses httpsOptions given a second time to NestFactory.create', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service'))] })
    class AppModule {}
    const httpsOptions = { key: pki.certs['user-service'].issued.keyPem, cert: pki.certs['user-service'].issued.chainPem };
    await expect(NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false, httpsOptions })).rejects.toThrow(
      /do not pass httpsOptions to NestFactory.create; MtlsModule supplies them/,
    );
  });

  it('refuses a server certificate without the serverAuth extended key usage', async () => {
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('client-only-eku'))] })
    class AppModule {}
    await expect(NestFactory.create(AppModule, new MtlsExpressAdapter(), { logger: false, abortOnError: false })).rejects.toThrow(
      /certPath: the certificate CN=user-service .* lacks the serverAuth extended key usage/,
    );
  });
});
