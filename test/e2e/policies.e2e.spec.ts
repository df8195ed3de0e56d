import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ClientCert, ClientCertGuard, RequireClientCert, type ClientIdentity } from 'nest-mtls';
import { requireTool } from '../support/require-tool';
import { httpsGet, renegotiationOutcome } from '../support/tls-probe';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';

@Controller('p')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class PolicyController {
  /** Controller policy applies. */
  @Get('controller')
  controller() {
    return { ok: true };
  }

  /** Handler policy wins over the controller's. */
  @Get('example')
  @RequireClientCert(/^CN=api,O=Example$/)
  example() {
    return { ok: true };
  }

  @Get('spiffe')
  @RequireClientCert({ spiffeId: ['spiffe://example.org/ns/prod/sa/home'] })
  spiffe() {
    return { ok: true };
  }

  @Get('whoami')
  @RequireClientCert()
  whoami(@ClientCert() caller: ClientIdentity) {
    return { subject: caller.subject, commonName: caller.commonName, issuer: caller.issuer };
  }
}

/** No decorator: only a global ClientCertGuard protects it. */
@Controller('open')
class UndecoratedController {
  @Get()
  open() {
    return { ok: true };
  }
}

/**
 * Policies over real TLS, with MtlsModule.forRoot (the synchronous form) and
 * split PEM files (cert-manager's tls.crt/tls.key).
 */
describe.each(HTTP_ADAPTERS)('%s: client certificate policies over real TLS', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    // Split PEM files, as cert-manager's tls.crt/tls.key.
    svc = await startWithOptions(pki.pemOptions('user-service'), [PolicyController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  const status = async (path: string, who: string) => (await httpsGet(svc.port, path, pki.clientTls(who))).status;

  it('applies the controller policy and lets the handler policy override it', async () => {
    expect(await status('/p/controller', 'home-page-service')).toBe(200);
    expect(await status('/p/controller', 'event-service')).toBe(403);
    expect(await status('/p/example', 'home-page-service')).toBe(403);
    expect(await status('/p/example', 'api-example')).toBe(200);
  });

  it('does not let a CN containing ",O=Example" pass as CN=api,O=Example', async () => {
    const res = await httpsGet(svc.port, '/p/whoami', pki.clientTls('smuggler'));
    expect((res.json as { subject: string }).subject).toBe('CN=api\\,O=Example');
    expect((res.json as { commonName: string }).commonName).toBe('api,O=Example');
    expect(await status('/p/example', 'smuggler')).toBe(403);
  });

  it('matches SPIFFE IDs from the URI SAN', async () => {
    expect(await status('/p/spiffe', 'spiffe')).toBe(200);
    expect(await status('/p/spiffe', 'home-page-service')).toBe(403);
  });

  it('hands the verified identity to the handler', async () => {
    const res = await httpsGet(svc.port, '/p/whoami', pki.clientTls('home-page-service'));
    expect(res.json).toEqual({ subject: 'CN=home-page-service,O=nest-mtls', commonName: 'home-page-service', issuer: 'CN=Test Global CA,O=nest-mtls test' });
  });
});

/**
 * needClientAuth=false ("want"): no certificate passes the handshake and the
 * guard answers 403 "No certificate chain found!"; a certificate from another
 * CA is still refused in the handshake.
 */
describe.each(HTTP_ADAPTERS)('%s: optional client certificates (needClientAuth: false)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(
      { keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, needClientAuth: false },
      [PolicyController, UndecoratedController],
      [{ provide: APP_GUARD, useClass: ClientCertGuard }],
      adapter,
    );
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('answers 403 "No certificate chain found!" without a certificate', async () => {
    const res = await httpsGet(svc.port, '/p/whoami', pki.clientTls());
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
  });

  it('still lets a verified caller in', async () => {
    expect((await httpsGet(svc.port, '/p/controller', pki.clientTls('home-page-service'))).status).toBe(200);
  });

  it('with the guard registered globally, a route without @RequireClientCert needs a verified certificate', async () => {
    expect((await httpsGet(svc.port, '/open', pki.clientTls())).json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
    expect((await httpsGet(svc.port, '/open', pki.clientTls('event-service'))).status).toBe(200);
  });

  it('still refuses a certificate it cannot verify', async () => {
    await expect(httpsGet(svc.port, '/p/whoami', pki.clientTls('untrusted'))).rejects.toThrow();
  });
});

/** The control case of the renegotiation test: with allowRenegotiation the same client renegotiates. */
describe.each(HTTP_ADAPTERS)('%s: allowRenegotiation: true', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(pki.pemOptions('user-service', { allowRenegotiation: true }), [PolicyController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('lets a TLS 1.2 client renegotiate', async () => {
    expect(await renegotiationOutcome(svc.port, pki.clientTls('home-page-service'))).toBe('renegotiated');
  });
});

/** Java key and trust stores made by keytool, as a Dropwizard team would bring them. */
const describeKeytool = requireTool('keytool', 'the JKS end-to-end test') ? describe : describe.skip;
describeKeytool.each(HTTP_ADAPTERS)('%s: JKS key store and trust store (keytool)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp | undefined;

  beforeAll(async () => {
    pki = await TestPki.create();
    const keystore = pki.jks('user-service', 'notsecret', 'server-tls');
    const truststore = pki.jksTrustStore('notsecret');
    svc = await startWithOptions({ keyStorePath: keystore, keyStorePassword: 'notsecret', certAlias: 'server-tls', trustStorePath: truststore, trustStorePassword: 'notsecret' }, [PolicyController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('serves mTLS from the JKS stores: allowed 200, other subject 403, no certificate refused', async () => {
    if (!svc) throw new Error('the JKS app did not start');
    expect((await httpsGet(svc.port, '/p/controller', pki.clientTls('home-page-service'))).status).toBe(200);
    expect((await httpsGet(svc.port, '/p/controller', pki.clientTls('event-service'))).status).toBe(403);
    await expect(httpsGet(svc.port, '/p/controller', pki.clientTls())).rejects.toThrow();
  });
});
