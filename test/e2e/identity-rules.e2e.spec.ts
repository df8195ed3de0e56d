import { Controller, Get, Module, type LoggerService } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  ClientCert,
  ClientCertGuard,
  ClientCertMode,
  MtlsModule,
  MtlsPolicyInventory,
  RequireAnyClientCert,
  RequireClientCert,
  type ClientIdentity,
  type GuardDecision,
  MtlsEvents,
  type MtlsOptions,
} from 'nest-mtls';
import { startMtlsMicroservice, rawRpc, type RunningMicroservice } from '../support/start-microservice';
import { HTTP_ADAPTERS, mtlsAdapter, startWithOptions, type HttpAdapterName, type RunningApp } from '../support/start-app';
import { httpsGet } from '../support/tls-probe';
import { spiffe, TestPki } from '../support/test-pki';

const HPS = spiffe('home-page-service');

@Controller('r')
class RulesController {
  @Get('spiffe')
  @RequireClientCert({ spiffeId: HPS })
  spiffe(@ClientCert('spiffeId') id: string) {
    return { spiffeId: id };
  }

  @Get('prefix')
  @RequireClientCert({ spiffeId: 'spiffe://example.org/ns/prod/*' })
  prefix() {
    return { ok: true };
  }

  @Get('domain')
  @RequireClientCert({ spiffeTrustDomain: 'example.org' })
  domain() {
    return { ok: true };
  }

  @Get('ip')
  @RequireClientCert({ ip: ['10.0.0.0/8', '2001:db8::/32'] })
  ip() {
    return { ok: true };
  }

  @Get('ou')
  @RequireClientCert({ ou: 'payments', issuer: /^CN=Test Global CA,/ })
  ou() {
    return { ok: true };
  }

  @Get('odd-uri')
  @RequireClientCert({ uri: 'urn:example:a,b="c"' })
  oddUri() {
    return { ok: true };
  }
}

/** Typed rules over real TLS: the certificates are made at test time, the policies are judged on what the handshake verified. */
describe.each(HTTP_ADAPTERS)('typed rules over real TLS (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    await Promise.all([
      pki.issue('two-uris', { subject: 'CN=home-page-service,O=nest-mtls', uri: [HPS, 'spiffe://example.org/other'] }),
      pki.issue('prod-web', { subject: 'CN=web,O=nest-mtls', uri: ['spiffe://example.org/ns/prod/sa/web'] }),
      pki.issue('production-web', { subject: 'CN=web,O=nest-mtls', uri: ['spiffe://example.org/ns/production/web'] }),
      pki.issue('other-domain', { subject: 'CN=home-page-service,O=nest-mtls', uri: ['spiffe://example.org.evil/home-page-service'] }),
      pki.issue('ip-10', { subject: 'CN=batch', ip: ['10.1.2.3'] }),
      pki.issue('ip-v6', { subject: 'CN=batch6', ip: ['2001:db8:0:0:0:0:0:7'] }),
      pki.issue('ip-mapped', { subject: 'CN=mapped', ip: ['0:0:0:0:0:ffff:a09:807'] }), // ::ffff:10.9.8.7 (@peculiar/x509 mis-encodes the dotted form)
      pki.issue('ip-11', { subject: 'CN=batch', ip: ['11.1.2.3'] }),
      pki.issue('payments', { subject: 'CN=web,OU=payments,O=Example' }),
      pki.issue('payments-other-ca', { subject: 'CN=web,OU=payments,O=Example' }, pki.otherGlobal),
      pki.issue('odd-uri', { subject: 'CN=odd', uri: ['urn:example:a,b="c"'] }),
      pki.issue('odd-uri-prefix', { subject: 'CN=odd', uri: ['urn:example:a'] }),
    ]);
    // A pin on home-page-service's fingerprint, lowercase and without colons (either form is accepted).
    const pin = pki.certs['home-page-service'].issued.certificate.fingerprint256.replace(/:/g, '').toLowerCase();
    @Controller('pinned')
    class Pinned {
      @Get()
      @RequireClientCert({ fingerprint256: pin })
      pinned() {
        return { ok: true };
      }
    }
    svc = await startWithOptions(pki.pemOptions('user-service'), [RulesController, Pinned], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  const status = async (path: string, who: string) => {
    try {
      return (await httpsGet(svc.port, path, pki.clientTls(who))).status;
    } catch {
      return 'refused';
    }
  };

  it('a SPIFFE rule admits exactly that ID, and @ClientCert reads it', async () => {
    const res = await httpsGet(svc.port, '/r/spiffe', pki.clientTls('home-page-service'));
    expect(res.json).toEqual({ spiffeId: HPS });
    expect(await status('/r/spiffe', 'home-page-service-evil')).toBe(403);
    expect(await status('/r/spiffe', 'event-service')).toBe(403);
    expect(await status('/r/spiffe', 'other-domain')).toBe(403);
  });

  it('a certificate with several URI SANs is no SVID: refused by SPIFFE rules although one of its URIs is the ID', async () => {
    expect(await status('/r/spiffe', 'two-uris')).toBe(403);
    expect(await status('/r/domain', 'two-uris')).toBe(403);
    // The log says why: no SPIFFE ID, because an X509-SVID has exactly one URI SAN.
    expect(svc.logs.lines).toContainEqual(
      expect.stringMatching(
        /^WARN 403 GET \/r\/spiffe from 127\.0\.0\.1:\d+: policy refused \(rule spiffeId\): no SPIFFE ID \(2 URI SANs; an X509-SVID has exactly one\) \(subject CN=home-page-service,O=nest-mtls\)$/,
      ),
    );
  });

  it('the prefix form matches whole segments; the trust domain form the whole domain', async () => {
    expect(await status('/r/prefix', 'prod-web')).toBe(200);
    expect(await status('/r/prefix', 'production-web')).toBe(403);
    expect(await status('/r/domain', 'event-service')).toBe(200);
    expect(await status('/r/domain', 'other-domain')).toBe(403);
  });

  it('IP SANs in CIDR blocks, IPv4 and IPv6, an IPv4-mapped SAN as IPv4', async () => {
    expect(await status('/r/ip', 'ip-10')).toBe(200);
    expect(await status('/r/ip', 'ip-v6')).toBe(200);
    expect(await status('/r/ip', 'ip-mapped')).toBe(200);
    expect(await status('/r/ip', 'ip-11')).toBe(403);
    expect(await status('/r/ip', 'home-page-service')).toBe(403); // 127.0.0.1 and ::1
  });

  it('OU and issuer together; a certificate of another CA never reaches the rule', async () => {
    expect(await status('/r/ou', 'payments')).toBe(200);
    expect(await status('/r/ou', 'home-page-service')).toBe(403);
    expect(await status('/r/ou', 'payments-other-ca')).toBe('refused');
  });

  it('a URI SAN holding "," and quotes compares whole (read from the DER, not from Node\'s JSON-quoted text)', async () => {
    expect(await status('/r/odd-uri', 'odd-uri')).toBe(200);
    expect(await status('/r/odd-uri', 'odd-uri-prefix')).toBe(403);
  });

  it('a fingerprint pin written lowercase without colons', async () => {
    expect(await status('/pinned', 'home-page-service')).toBe(200);
    expect(await status('/pinned', 'event-service')).toBe(403);
  });
});

@Controller('d')
class DefaultsController {
  @Get('undecorated')
  undecorated(@ClientCert('subject') subject: string) {
    return { subject };
  }

  @Get('any')
  @RequireAnyClientCert()
  any() {
    return { ok: true };
  }

  @Get('strict')
  @RequireClientCert({ spiffeId: HPS })
  strict() {
    return { ok: true };
  }

  @Get('trial')
  @RequireClientCert({ spiffeId: HPS })
  @ClientCertMode('audit')
  trial(@ClientCert() caller: ClientIdentity) {
    return { admitted: caller.subject };
  }
}

@Controller('audited')
@ClientCertMode('audit')
class AuditedController {
  @Get()
  @RequireClientCert({ spiffeId: HPS })
  audited() {
    return { ok: true };
  }

  @Get('enforced')
  @RequireClientCert({ spiffeId: HPS })
  @ClientCertMode('enforce')
  enforced() {
    return { ok: true };
  }
}

/** Routes without @RequireClientCert under a global guard, the "any verified certificate" decorator, and audit mode. */
describe.each(HTTP_ADAPTERS)('default policy and audit mode (%s)', (adapter) => {
  let pki: TestPki;
  let deny: RunningApp;
  let audit: RunningApp;
  const decisions: GuardDecision[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    deny = await startWithOptions(pki.pemOptions('user-service', { defaultPolicy: 'deny' }), [DefaultsController, AuditedController], [{ provide: APP_GUARD, useClass: ClientCertGuard }], adapter);
    deny.app.get(MtlsEvents).guardDecisions.subscribe((d) => decisions.push(d));
    audit = await startWithOptions(pki.pemOptions('user-service', { policyMode: 'audit' }), [DefaultsController, AuditedController], [], adapter);
  });

  afterAll(async () => {
    await deny?.close();
    await audit?.close();
    pki?.cleanup();
  });

  const get = (svc: RunningApp, path: string, who: string) => httpsGet(svc.port, path, pki.clientTls(who));
  // Nest's Logger is one per process: the lines of both apps go to the logger set last.
  const lines = () => [...deny.logs.lines, ...audit.logs.lines];

  it("defaultPolicy 'deny': a route without a policy admits nobody; @RequireAnyClientCert any verified certificate", async () => {
    expect((await get(deny, '/d/undecorated', 'home-page-service')).json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    expect(lines().some((l) => /^WARN 403 GET \/d\/undecorated from 127\.0\.0\.1:\d+: policy refused \(rule deny\): nobody is admitted \(defaultPolicy deny\) \(subject CN=home-page-service,O=nest-mtls\)$/.test(l))).toBe(true);
    expect((await get(deny, '/d/any', 'event-service')).status).toBe(200);
    expect((await get(deny, '/d/strict', 'home-page-service')).status).toBe(200);
    expect((await get(deny, '/d/strict', 'event-service')).status).toBe(403);
  });

  it('audit mode on a handler: the would-be refusal is let in, logged and counted as audited', async () => {
    decisions.length = 0;
    const res = await get(deny, '/d/trial', 'event-service');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ admitted: 'CN=event-service,O=nest-mtls' });
    expect(
      lines().some((l) =>
        /^WARN audit mode: would refuse GET \/d\/trial from 127\.0\.0\.1:\d+: policy refused \(rule spiffeId\): unexpected SPIFFE ID spiffe:\/\/example\.org\/event-service \(subject CN=event-service,O=nest-mtls\); let in$/.test(l),
      ),
    ).toBe(true);
    expect(decisions).toEqual([expect.objectContaining({ route: '/d/trial', outcome: 'audited', reason: 'policy', rule: 'spiffeId', mode: 'audit', via: 'tls', subject: 'CN=event-service,O=nest-mtls' })]);
    decisions.length = 0;
    expect((await get(deny, '/d/trial', 'home-page-service')).status).toBe(200);
    expect(decisions).toEqual([expect.objectContaining({ route: '/d/trial', outcome: 'allowed', mode: 'audit' })]);
  });

  it('audit mode on a controller, with a handler that enforces anyway', async () => {
    expect((await get(deny, '/audited', 'event-service')).status).toBe(200);
    expect((await get(deny, '/audited/enforced', 'event-service')).status).toBe(403);
  });

  it("policyMode 'audit' for the whole module: no policy refusal is enforced, a missing certificate still is", async () => {
    expect((await get(audit, '/d/strict', 'event-service')).status).toBe(200);
    expect((await get(audit, '/audited/enforced', 'event-service')).status).toBe(403);
    expect(lines().some((l) => l.includes('audit mode: would refuse GET /d/strict'))).toBe(true);
    await expect(httpsGet(audit.port, '/d/strict', pki.clientTls())).rejects.toThrow(); // no certificate: the handshake fails
  });

  it('the policy inventory lists every route with its policy in words', () => {
    const inventory = deny.app.get(MtlsPolicyInventory).list();
    const byRoute = Object.fromEntries(inventory.map((e) => [e.route, e]));
    expect(byRoute['GET /d/undecorated']).toEqual({ transport: 'http', route: 'GET /d/undecorated', handler: 'DefaultsController.undecorated', guarded: true, policy: 'nobody (defaultPolicy deny)', mode: 'enforce' });
    expect(byRoute['GET /d/any']).toMatchObject({ policy: 'any verified certificate', mode: 'enforce' });
    expect(byRoute['GET /d/trial']).toMatchObject({ policy: `SPIFFE ID is ${HPS}`, mode: 'audit' });
    expect(byRoute['GET /audited/enforced']).toMatchObject({ mode: 'enforce' });
    const local = audit.app.get(MtlsPolicyInventory).list();
    expect(local.find((e) => e.route === 'GET /d/undecorated')).toMatchObject({ guarded: false, policy: expect.stringMatching(/^not checked: no ClientCertGuard/) });
  });
});

@Controller()
class RpcRulesController {
  @MessagePattern({ cmd: 'whoami' })
  @RequireClientCert({ spiffeId: HPS })
  whoami(@ClientCert('spiffeId') id: string) {
    return { spiffeId: id };
  }
}

/** The same rules, the inventory and endpoint identification on a Nest microservice over TCP. */
describe('typed rules and endpoint identification over TCP', () => {
  let pki: TestPki;
  let tcp: RunningMicroservice;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('hps-elsewhere', { subject: 'CN=home-page-service,O=nest-mtls', uri: [HPS], ip: ['10.9.9.9'] });
    @Module({ imports: [MtlsModule.forRoot(pki.pemOptions('user-service', { endpointIdentification: 'HTTPS' }))], controllers: [RpcRulesController] })
    class RpcModule {}
    tcp = await startMtlsMicroservice(RpcModule);
  });

  afterAll(async () => {
    await tcp?.close();
    pki?.cleanup();
  });

  it('a SPIFFE rule on a message pattern', async () => {
    expect(await rawRpc(tcp.port, pki.clientTls('home-page-service'), { cmd: 'whoami' }, {})).toEqual({ answer: expect.objectContaining({ response: { spiffeId: HPS } }) });
    expect(await rawRpc(tcp.port, pki.clientTls('event-service'), { cmd: 'whoami' }, {})).toEqual({
      answer: expect.objectContaining({ err: expect.objectContaining({ message: 'Certificate subject is not recognized!' }) }),
    });
  });

  it('endpoint identification: a certificate that does not name 127.0.0.1 is refused, whatever its SPIFFE ID', async () => {
    expect(await rawRpc(tcp.port, pki.clientTls('hps-elsewhere'), { cmd: 'whoami' }, {})).toEqual({
      answer: expect.objectContaining({ err: expect.objectContaining({ message: 'Certificate subject is not recognized!' }) }),
    });
    expect(tcp.logs.lines.some((l) => /endpoint identification \(HTTPS\): the client connects from 127\.0\.0\.1, which its certificate does not name: its IP SANs are 10\.9\.9\.9/.test(l))).toBe(true);
  });

  it('the inventory lists message patterns', () => {
    const entry = tcp.app.get(MtlsPolicyInventory).list().find((e) => e.transport === 'rpc');
    expect(entry).toEqual({ transport: 'rpc', route: '{"cmd":"whoami"}', handler: 'RpcRulesController.whoami', guarded: true, policy: `SPIFFE ID is ${HPS}`, mode: 'enforce' });
  });
});

/** A logger that keeps debug lines too. */
class DebugLogger implements LoggerService {
  readonly lines: string[] = [];
  log(m: unknown) { this.lines.push(`LOG ${String(m)}`); }
  error(m: unknown) { this.lines.push(`ERROR ${String(m)}`); }
  warn(m: unknown) { this.lines.push(`WARN ${String(m)}`); }
  debug(m: unknown) { this.lines.push(`DEBUG ${String(m)}`); }
  verbose() {}
}

/** Starts an app on `host` (dual-stack '::', or '::1'), which start-app's helpers do not do. */
async function startOn(host: string, options: MtlsOptions, controllers: unknown[], adapter: HttpAdapterName): Promise<RunningApp & { logs: DebugLogger }> {
  const logs = new DebugLogger();
  @Module({ imports: [MtlsModule.forRoot(options)], controllers: controllers as never[] })
  class HostModule {}
  const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).setLogger(logs).compile();
  const app = moduleRef.createNestApplication(mtlsAdapter(adapter), { logger: logs, abortOnError: false });
  await app.listen(0, host);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, logs: logs as never, adapter, close: () => app.close() };
}

@Controller('e')
class EndpointController {
  @Get()
  @RequireClientCert()
  who(@ClientCert('subject') subject: string) {
    return { subject };
  }
}

/** 127.0.0.1 as the system resolver reads it from a name (inet_aton: decimal, octal, hex, short forms; a trailing dot). */
const ADDRESSES_AS_NAMES = ['2130706433', '127.1', '0x7f.0.0.1', '0177.0.0.1', '0x7f000001', '127.0.0.1', '127.0.0.1.'];

/** The article's endpointIdentificationAlgorithm: HTTPS, on the server: the client certificate must name where it connects from. */
describe.each(HTTP_ADAPTERS)('endpoint identification (HTTPS) (%s)', (adapter) => {
  let pki: TestPki;
  let dual: RunningApp & { logs: DebugLogger };
  let v6: RunningApp & { logs: DebugLogger };

  beforeAll(async () => {
    pki = await TestPki.create();
    await Promise.all([
      pki.issue('dns-localhost', { subject: 'CN=by-name', dns: ['localhost'] }),
      pki.issue('dns-nowhere', { subject: 'CN=by-bad-name', dns: ['no-such-host.invalid', '*.example.org'] }),
      pki.issue('ip-elsewhere', { subject: 'CN=elsewhere', ip: ['10.9.9.9'] }),
      pki.issue('v4-only', { subject: 'CN=v4', ip: ['127.0.0.1'] }),
      pki.issue('v6-only', { subject: 'CN=v6', ip: ['0:0:0:0:0:0:0:1'] }),
      ...ADDRESSES_AS_NAMES.map((name, n) => pki.issue(`dns-address-${n}`, { subject: `CN=address-as-name-${n}`, dns: [name] })),
    ]);
    const options = pki.pemOptions('user-service', { endpointIdentification: 'HTTPS' });
    dual = await startOn('::', options, [EndpointController], adapter);
    v6 = await startOn('::1', options, [EndpointController], adapter);
  });

  afterAll(async () => {
    await dual?.close();
    await v6?.close();
    pki?.cleanup();
  });

  const from = (svc: RunningApp, host: string, who: string) => httpsGet(svc.port, '/e', pki.clientTls(who), host);
  // Nest's Logger is one per process: the lines of both apps go to the logger set last.
  const lines = () => [...dual.logs.lines, ...v6.logs.lines];

  it('an IPv4 client of a dual-stack server (::ffff:127.0.0.1) is matched by the IP SAN 127.0.0.1', async () => {
    expect((await from(dual, '127.0.0.1', 'v4-only')).status).toBe(200);
    expect((await from(dual, '127.0.0.1', 'home-page-service')).status).toBe(200);
  });

  it('a DNS SAN that resolves to the address (localhost) passes; one that does not resolve is refused with the reason logged', async () => {
    expect((await from(dual, '127.0.0.1', 'dns-localhost')).status).toBe(200);
    const refused = await from(dual, '127.0.0.1', 'dns-nowhere');
    expect(refused.json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    expect(lines().some((l) => /^WARN 403 GET \/e from 127\.0\.0\.1:\d+: endpoint identification \(HTTPS\): the client connects from 127\.0\.0\.1, which its certificate does not name: it has no IP SAN; no-such-host\.invalid does not resolve \(ENOTFOUND\)/.test(l))).toBe(true);
  });

  it('a DNS SAN that spells an address (2130706433, 127.1, 0x7f.0.0.1, 0177.0.0.1, ...) is not a host name: never resolved, refused (Java matches addresses against IP SANs only)', async () => {
    for (const [n, name] of ADDRESSES_AS_NAMES.entries()) {
      const answer = await from(dual, '127.0.0.1', `dns-address-${n}`);
      expect([name, answer.status]).toEqual([name, 403]);
      const escaped = name.replace(/\./g, '\\.');
      expect(lines().some((l) => new RegExp(`endpoint identification \\(HTTPS\\): the client connects from 127\\.0\\.0\\.1, which its certificate does not name: it has no IP SAN; ${escaped} is an address spelled as a name`).test(l))).toBe(true);
    }
    // A real host name still works, over the same connection path.
    expect((await from(dual, '127.0.0.1', 'dns-localhost')).status).toBe(200);
  });

  it('an IP SAN of another address is refused', async () => {
    expect((await from(dual, '127.0.0.1', 'ip-elsewhere')).status).toBe(403);
  });

  it('IPv6 peers: ::1 is named by an IP SAN ::1 (in any spelling), not by 127.0.0.1', async () => {
    expect((await from(v6, '::1', 'v6-only')).status).toBe(200);
    expect((await from(v6, '::1', 'home-page-service')).status).toBe(200);
    expect((await from(v6, '::1', 'v4-only')).status).toBe(403);
    expect(lines().some((l) => l.includes('the client connects from ::1, which its certificate does not name: its IP SANs are 127.0.0.1'))).toBe(true);
  });

  it('the startup log lists the routes with their policies at debug level', () => {
    const at = lines().findIndex((l) => l.startsWith('DEBUG client certificate policies of 1 route'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines()[at + 1]).toMatch(/^DEBUG {3}GET \/e {2}any verified certificate \(EndpointController\.who\)$/);
  });
});

@Controller()
class RpcDefaultsController {
  @MessagePattern({ cmd: 'unmarked' })
  unmarked() {
    return 'unmarked';
  }

  @MessagePattern({ cmd: 'any' })
  @RequireAnyClientCert()
  any() {
    return 'any';
  }

  @MessagePattern({ cmd: 'audited' })
  @RequireClientCert({ spiffeId: HPS })
  @ClientCertMode('audit')
  audited(@ClientCert('subject') subject: string) {
    return { subject };
  }
}

/** Default policy `deny` under a global guard, @RequireAnyClientCert and audit mode on message patterns. */
describe('default policy and audit mode over TCP', () => {
  let pki: TestPki;
  let tcp: RunningMicroservice;
  const decisions: GuardDecision[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    @Module({
      imports: [MtlsModule.forRoot(pki.pemOptions('user-service', { defaultPolicy: 'deny' }))],
      controllers: [RpcDefaultsController],
      providers: [{ provide: APP_GUARD, useClass: ClientCertGuard }],
    })
    class RpcDefaultsModule {}
    tcp = await startMtlsMicroservice(RpcDefaultsModule);
    tcp.app.get(MtlsEvents).guardDecisions.subscribe((d) => decisions.push(d));
  });

  afterAll(async () => {
    await tcp?.close();
    pki?.cleanup();
  });

  const refused = { answer: expect.objectContaining({ err: expect.objectContaining({ message: 'Certificate subject is not recognized!' }) }) };

  it('a pattern without @RequireClientCert is refused to everyone under defaultPolicy deny; @RequireAnyClientCert admits any verified caller', async () => {
    expect(await rawRpc(tcp.port, pki.clientTls('home-page-service'), { cmd: 'unmarked' }, {})).toEqual(refused);
    expect(await rawRpc(tcp.port, pki.clientTls('event-service'), { cmd: 'any' }, {})).toEqual({ answer: expect.objectContaining({ response: 'any' }) });
  });

  it('audit mode lets a caller the policy would refuse in, logs and counts it; without a certificate the handshake still fails', async () => {
    decisions.length = 0;
    expect(await rawRpc(tcp.port, pki.clientTls('event-service'), { cmd: 'audited' }, {})).toEqual({ answer: expect.objectContaining({ response: { subject: 'CN=event-service,O=nest-mtls' } }) });
    expect(decisions).toEqual([expect.objectContaining({ outcome: 'audited', reason: 'policy', mode: 'audit', route: '{"cmd":"audited"}' })]);
    expect(tcp.logs.lines.some((l) => /audit mode: would refuse RPC \{"cmd":"audited"\} .*: policy refused \(rule spiffeId\): unexpected SPIFFE ID spiffe:\/\/example\.org\/event-service \(subject CN=event-service,O=nest-mtls\); let in/.test(l))).toBe(true);
    expect(await rawRpc(tcp.port, pki.clientTls(), { cmd: 'audited' }, {})).toMatchObject({ failed: expect.any(String) });
  });
});
