import { Controller, Get, Req } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ClientCert, MtlsEvents, MtlsMaterialSource, RequireClientCert, type ClientIdentity, type GuardDecision, type MtlsReloadResult } from 'nest-mtls';
import { createIntermediateCa, type IssuedCertificate } from 'nest-mtls/testing';
import { writeFileSync } from 'node:fs';
import { filter, firstValueFrom } from 'rxjs';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { httpsGet, type HttpsAnswer } from '../support/tls-probe';
import { spiffe, TestPki } from '../support/test-pki';

const HPS = spiffe('home-page-service');
const ENVOY = spiffe('envoy');

@Controller('p')
class ProxiedController {
  @Get('whoami')
  @RequireClientCert()
  whoami(@ClientCert() caller: ClientIdentity, @Req() req: { headers: IncomingHttpHeaders }) {
    return { subject: caller.subject, spiffeId: caller.spiffeId ?? null, xfcc: req.headers['x-forwarded-client-cert'] ?? null, clientCert: req.headers['client-cert'] ?? null };
  }

  @Get('home')
  @RequireClientCert({ spiffeId: HPS })
  home() {
    return { ok: true };
  }

  /** No guard at all: what any handler would read from the headers. */
  @Get('open')
  open(@Req() req: { headers: IncomingHttpHeaders; rawHeaders?: string[]; raw?: { rawHeaders: string[] } }) {
    // Express's request is Node's; Fastify's wraps it (`raw`).
    const rawHeaders = req.rawHeaders ?? req.raw!.rawHeaders;
    return { xfcc: req.headers['x-forwarded-client-cert'] ?? null, clientCert: req.headers['client-cert'] ?? null, raw: rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase()) };
  }
}

const enc = (pem: string) => encodeURIComponent(pem);
const sf = (der: Buffer) => `:${der.toString('base64')}:`;

/**
 * Identity forwarded by a trusted proxy, over real TLS: the proxy (CN=envoy,
 * spiffe://example.org/envoy) connects with its own certificate and forwards
 * the client's in a header; the app verifies it again (trust store, validity,
 * CRLs) before it becomes the caller.
 */
describe.each(HTTP_ADAPTERS)('identity from a trusted proxy: x-forwarded-client-cert (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  const decisions: GuardDecision[] = [];

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('envoy', { subject: 'CN=envoy,O=mesh', uri: [ENVOY], dns: ['localhost'], ip: ['127.0.0.1', '::1'] });
    // A client of another intermediate of our root, which the server's own chain does not hold.
    await pki.issue('team-client', { subject: 'CN=team-client,O=nest-mtls' }, await createIntermediateCa(pki.root, { subject: 'CN=Team CA,O=nest-mtls test' }));
    svc = await startWithOptions(
      pki.pemOptions('user-service', { crlPath: pki.crlAll, forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: ENVOY } }),
      [ProxiedController],
      [],
      adapter,
    );
    svc.app.get(MtlsEvents).guardDecisions.subscribe((d) => decisions.push(d));
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  /** What Envoy appends for a client certificate: Hash, Cert, Chain (URL-encoded PEM), Subject, URI. */
  function xfccOf(name: string, { chain = true, hash = true } = {}): string {
    const issued = pki.certs[name].issued;
    const parts = [`By=${ENVOY}`];
    if (hash) parts.push(`Hash=${createHash('sha256').update(issued.certificate.raw).digest('hex')}`);
    parts.push(`Cert="${enc(issued.certPem)}"`);
    if (chain) parts.push(`Chain="${enc(issued.chainPem)}"`);
    parts.push(`Subject="${issued.certificate.subject.split('\n').reverse().join(',')}"`);
    return parts.join(';');
  }

  const get = (path: string, who: string, headers: Record<string, string> = {}): Promise<HttpsAnswer> =>
    httpsGet(svc.port, path, { ...pki.clientTls(who), headers } as never);

  it('the forwarded certificate becomes the caller: policies and @ClientCert see it, not the proxy', async () => {
    decisions.length = 0;
    const res = await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('home-page-service') });
    expect(res.json).toMatchObject({ subject: 'CN=home-page-service,O=nest-mtls', spiffeId: HPS });
    expect((await get('/p/home', 'envoy', { 'x-forwarded-client-cert': xfccOf('home-page-service') })).status).toBe(200);
    expect((await get('/p/home', 'envoy', { 'x-forwarded-client-cert': xfccOf('event-service') })).json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    expect(decisions.map((d) => [d.route, d.outcome, d.via, d.subject])).toEqual([
      ['/p/whoami', 'allowed', 'proxy', 'CN=home-page-service,O=nest-mtls'],
      ['/p/home', 'allowed', 'proxy', 'CN=home-page-service,O=nest-mtls'],
      ['/p/home', 'refused', 'proxy', 'CN=event-service,O=nest-mtls'],
    ]);
  });

  it('a caller verified once is found by a hash of the header: no second verification (and no second revocation check)', async () => {
    // The revocation gate checks every TLS connection (here the proxy's own chain); the forwarded certificate is checked once.
    const checks: string[] = [];
    const subscription = svc.app
      .get(MtlsEvents)
      .revocationChecks.subscribe((c) => c.subject.includes('home-page-service') && checks.push(`${c.source}:${c.result}:${c.subject}`));
    try {
      const header = { 'x-forwarded-client-cert': xfccOf('home-page-service', { hash: false }) }; // a header this file has not sent yet
      expect((await get('/p/home', 'envoy', header)).status).toBe(200);
      expect(checks).toEqual(['crl:good:CN=home-page-service,O=nest-mtls']); // the forwarded leaf against the global CA's CRL
      expect((await get('/p/home', 'envoy', header)).status).toBe(200);
      expect(checks).toHaveLength(1);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('the trusted proxy without the header is judged as itself', async () => {
    expect((await get('/p/whoami', 'envoy')).json).toMatchObject({ subject: 'CN=envoy,O=mesh', spiffeId: ENVOY });
    expect((await get('/p/home', 'envoy')).status).toBe(403);
  });

  it('uses the element the proxy appended (the last), not one a client sent ahead of it', async () => {
    const value = `${xfccOf('home-page-service')},${xfccOf('event-service')}`;
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': value })).json).toMatchObject({ subject: 'CN=event-service,O=nest-mtls' });
  });

  it('a ;Cert= injected inside a quoted Subject does not replace the certificate', async () => {
    const event = pki.certs['event-service'].issued;
    const home = pki.certs['home-page-service'].issued;
    const value = `Cert="${enc(event.certPem)}";Chain="${enc(event.chainPem)}";Subject="CN=x;Cert=${enc(home.certPem)}"`;
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': value })).json).toMatchObject({ subject: 'CN=event-service,O=nest-mtls' });
    expect((await get('/p/home', 'envoy', { 'x-forwarded-client-cert': value })).status).toBe(403);
  });

  it('re-verifies the forwarded certificate: a rogue CA, an expired one, a revoked one and a missing intermediate are refused', async () => {
    const refused = { statusCode: 403, message: 'No certificate chain found!' };
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('untrusted') })).json).toEqual(refused);
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('untrusted', { chain: false }) })).json).toEqual(refused);
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('expired') })).json).toEqual(refused);
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('revoked') })).json).toEqual(refused);
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': xfccOf('team-client', { chain: false }) })).json).toEqual(refused);
    const log = svc.logs.lines.join('\n');
    expect(log).toMatch(/403 GET \/p\/whoami from 127\.0\.0\.1:\d+: forwarded certificate not verified: CN=home-page-service \(issuer CN=Other Global CA\) does not chain to a CA in the trust store: the issuer CN=Other Root CA of CN=Other Global CA was not found: .*, presented subject .*forwarded by the trusted proxy CN=envoy,O=mesh/);
    // The intermediate the proxy did not forward, and the server does not know, is named.
    expect(log).toMatch(/forwarded certificate not verified: CN=team-client \(issuer CN=Team CA\) does not chain to a CA in the trust store: the issuer CN=Team CA of CN=team-client was not found: not forwarded, not in our own chain or the trust store, and intermediatesPath is not set/);
    expect(log).toMatch(/forwarded certificate not verified: CN=home-page-service expired on/);
    expect(log).toMatch(/forwarded certificate not verified: CN=home-page-service \(serial [0-9A-F]+\) is revoked by the CRL of CN=Test Global CA/);
  });

  it("a leaf forwarded alone (Envoy without chain: true, nginx's $ssl_client_escaped_cert) is verified with the intermediate of the server's own chain", async () => {
    decisions.length = 0;
    expect((await get('/p/home', 'envoy', { 'x-forwarded-client-cert': xfccOf('home-page-service', { chain: false }) })).status).toBe(200);
    // Exactly what nginx sends with proxy_set_header X-Forwarded-Client-Cert "Cert=\"$ssl_client_escaped_cert\"".
    const nginx = `Cert="${enc(pki.certs['home-page-service'].issued.certPem)}"`;
    expect((await get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': nginx })).json).toMatchObject({ subject: 'CN=home-page-service,O=nest-mtls', spiffeId: HPS });
    expect((await get('/p/home', 'envoy', { 'x-forwarded-client-cert': xfccOf('event-service', { chain: false }) })).status).toBe(403); // the policy still decides
    expect(decisions.map((d) => [d.outcome, d.via, d.subject])).toEqual([
      ['allowed', 'proxy', 'CN=home-page-service,O=nest-mtls'],
      ['allowed', 'proxy', 'CN=home-page-service,O=nest-mtls'],
      ['refused', 'proxy', 'CN=event-service,O=nest-mtls'],
    ]);
  });

  it('a header the proxy cannot have meant is a 400 that says what is wrong, never a 500', async () => {
    const bad = async (value: string) => get('/p/whoami', 'envoy', { 'x-forwarded-client-cert': value });
    const noCert = await bad(`By=${ENVOY};Subject="CN=home-page-service,O=nest-mtls";URI=${HPS}`);
    expect(noCert.status).toBe(400);
    expect((noCert.json as { message: string }).message).toMatch(/^malformed x-forwarded-client-cert header from the trusted proxy: its last element has no Cert \(or Chain\) field/);
    expect(await bad('Cert="%E0%A4%A"')).toMatchObject({ status: 400, json: { statusCode: 400, message: 'malformed x-forwarded-client-cert header from the trusted proxy: Cert is not URL-encoded PEM' } });
    expect((await bad('Subject="CN=x')).status).toBe(400);
    expect((await bad(`Hash=${'0'.repeat(64)};Cert="${enc(pki.certs['home-page-service'].issued.certPem)}"`)).status).toBe(400);
    expect((await bad(`Cert="${enc('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')}"`)).status).toBe(400);
  });

  it('from any other peer the header is ignored and removed, on guarded and unguarded routes alike', async () => {
    const forged = { 'x-forwarded-client-cert': xfccOf('home-page-service') };
    expect((await get('/p/home', 'event-service', forged)).status).toBe(403);
    expect((await get('/p/whoami', 'event-service', forged)).json).toEqual({ subject: 'CN=event-service,O=nest-mtls', spiffeId: spiffe('event-service'), xfcc: null, clientCert: null });
    const open = (await get('/p/open', 'event-service', forged)).json as { xfcc: unknown; raw: string[] };
    expect(open.xfcc).toBeNull();
    expect(open.raw).not.toContain('x-forwarded-client-cert');
    expect(svc.logs.lines.some((l) => /removed x-forwarded-client-cert from a request of 127\.0\.0\.1:\d+, which is not the trusted proxy \(GET \/p\/(home|whoami|open)\)/.test(l))).toBe(true);
    // The trusted proxy's header reaches the handler.
    expect(((await get('/p/open', 'envoy', forged)).json as { xfcc: unknown }).xfcc).toBe(forged['x-forwarded-client-cert']);
  });
});

/** RFC 9440 (Client-Cert, Client-Cert-Chain), with the proxy named by a DN regex as MTLS_TRUSTED_PROXY would give it. */
describe.each(HTTP_ADAPTERS)('identity from a trusted proxy: RFC 9440 Client-Cert (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('envoy', { subject: 'CN=envoy,O=mesh', dns: ['localhost'], ip: ['127.0.0.1'] });
    svc = await startWithOptions(pki.pemOptions('user-service', { forwardedCertHeader: 'client-cert', trustedProxy: '^CN=envoy,O=mesh$' }), [ProxiedController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  const get = (path: string, who: string, headers: Record<string, string> = {}) => httpsGet(svc.port, path, { ...pki.clientTls(who), headers } as never);
  const headersOf = (name: string) => ({ 'client-cert': sf(pki.certs[name].issued.certificate.raw), 'client-cert-chain': sf(pki.global.certificate.raw) });

  it('takes the certificate and its chain from the two headers', async () => {
    expect((await get('/p/home', 'envoy', headersOf('home-page-service'))).status).toBe(200);
    expect((await get('/p/home', 'envoy', headersOf('event-service'))).status).toBe(403);
    // Client-Cert alone (no Client-Cert-Chain): the server knows the intermediate from its own chain.
    expect((await get('/p/home', 'envoy', { 'client-cert': headersOf('home-page-service')['client-cert'] })).status).toBe(200);
    expect((await get('/p/whoami', 'envoy', { 'client-cert': headersOf('untrusted')['client-cert'] })).json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
    expect((await get('/p/whoami', 'envoy', headersOf('untrusted'))).json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
  });

  it('an unanchored DN regex (CN=envoy) is refused at startup: CN=envoy-canary, a certificate of the same CA, would speak for every caller', async () => {
    await pki.issue('envoy-canary', { subject: 'CN=envoy-canary,O=mesh', dns: ['localhost'], ip: ['127.0.0.1'] });
    let other: RunningApp | undefined;
    try {
      const started = startWithOptions(pki.pemOptions('user-service', { forwardedCertHeader: 'client-cert', trustedProxy: 'CN=envoy' }), [ProxiedController], [], adapter).then(async (running) => {
        other = running;
        // What it would let through: the canary forwarding the home page's certificate, admitted as the home page.
        return (await httpsGet(running.port, '/p/home', { ...pki.clientTls('envoy-canary'), headers: headersOf('home-page-service') } as never)).status;
      });
      await expect(started).rejects.toThrow(/^trustedProxy: \/CN=envoy\/ is not anchored at both ends \(it does not start with \^\)/);
    } finally {
      await other?.close();
    }
  });

  it('malformed values are a 400; the headers of another peer are removed', async () => {
    const res = await get('/p/whoami', 'envoy', { 'client-cert': pki.certs['home-page-service'].issued.certificate.raw.toString('base64') });
    expect(res.json).toEqual({ statusCode: 400, message: 'malformed client-cert header from the trusted proxy: the value is not a structured-field byte sequence (:base64 of the DER:)' });
    expect((await get('/p/open', 'home-page-service', headersOf('home-page-service'))).json).toMatchObject({ clientCert: null });
    expect((await get('/p/whoami', 'event-service', headersOf('home-page-service'))).json).toMatchObject({ subject: 'CN=event-service,O=nest-mtls' });
  });
});

/**
 * intermediatesPath: the intermediates of a fleet the server's own chain
 * does not hold (its certificate comes from another intermediate of the same
 * root), part of the live material. They only build paths: trust still ends
 * at the trust store's roots, whatever the file holds.
 */
describe.each(HTTP_ADAPTERS)('a leaf forwarded alone, with intermediatesPath (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let team: IssuedCertificate;
  let intermediatesPath: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('envoy', { subject: 'CN=envoy,O=mesh', uri: [ENVOY], dns: ['localhost'], ip: ['127.0.0.1'] });
    team = await createIntermediateCa(pki.root, { subject: 'CN=Team CA,O=nest-mtls test' });
    await pki.issue('team-client', { subject: 'CN=team-client,O=nest-mtls', uri: [spiffe('team-client')] }, team);
    intermediatesPath = pki.write('intermediates.pem', pki.global.certPem);
    svc = await startWithOptions(
      pki.pemOptions('user-service', { forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: ENVOY }, intermediatesPath }),
      [ProxiedController],
      [],
      adapter,
    );
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  const leafOnly = (name: string) => ({ 'x-forwarded-client-cert': `Cert="${enc(pki.certs[name].issued.certPem)}"` });
  const whoami = (name: string) => httpsGet(svc.port, '/p/whoami', { ...pki.clientTls('envoy'), headers: leafOnly(name) } as never);
  const rewrite = async (pem: string) => {
    const reloaded = firstValueFrom(svc.app.get(MtlsMaterialSource).reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
    writeFileSync(intermediatesPath, pem);
    await reloaded;
  };

  it('refuses a client of an intermediate nobody has, naming it; admits it once intermediatesPath holds it (reloaded)', async () => {
    expect((await whoami('team-client')).json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
    expect(svc.logs.lines.some((l) => l.includes('CN=team-client (issuer CN=Team CA) does not chain to a CA in the trust store: the issuer CN=Team CA of CN=team-client was not found: not forwarded, not in our own chain, intermediatesPath or the trust store'))).toBe(true);
    await rewrite(pki.global.certPem + team.certPem);
    expect((await whoami('team-client')).json).toMatchObject({ subject: 'CN=team-client,O=nest-mtls', spiffeId: spiffe('team-client') });
    expect((await whoami('home-page-service')).status).toBe(200);
  });

  it('adds no trust: another PKI\'s root and intermediate in the file leave its clients refused', async () => {
    await rewrite(pki.global.certPem + team.certPem + pki.otherGlobal.certPem + pki.otherRoot.certPem);
    expect(svc.logs.lines.some((l) => /intermediatesPath: CN=Other Root CA in .* is self-signed: it adds no trust from there/.test(l))).toBe(true);
    expect((await whoami('untrusted')).json).toEqual({ statusCode: 403, message: 'No certificate chain found!' });
    expect(svc.logs.lines.some((l) => l.includes('CN=home-page-service (issuer CN=Other Global CA) does not chain to a CA in the trust store: it ends at CN=Other Root CA, a root the trust store does not hold'))).toBe(true);
    expect((await whoami('team-client')).status).toBe(200);
  });
});
