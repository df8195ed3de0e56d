import { createHash } from 'node:crypto';
import { MtlsIdentitySource, MtlsMaterialSource, type CallerState, type MtlsOptions } from 'nest-mtls';
import { fakeTlsSocket, httpContext, route, rpcContext, type FakeRequestSpec } from '../support/fake-execution-context';
import { spiffe, TestPki } from '../support/test-pki';

const ENVOY = spiffe('envoy');

class Users {
  findOne() {}
}
const AT = route(Users, 'findOne');

/**
 * Who the caller of a request is: the TLS peer's own certificate, or the one
 * a trusted proxy forwarded, verified again here (a fake ExecutionContext,
 * the test PKI's certificates and material: no TLS). The e2e tests
 * (trusted-proxy, identity-rules) prove the same over real TLS.
 */
describe('MtlsIdentitySource', () => {
  let pki: TestPki;
  const sources: MtlsMaterialSource[] = [];
  let direct: MtlsIdentitySource;
  let proxied: MtlsIdentitySource;
  const tls = (name: string) => fakeTlsSocket({ cert: pki.certs[name].issued.certificate });
  const subjectOf = (state: CallerState) => (state.status === 'verified' ? state.identity.subject : undefined);

  async function sourceWith(extra: Partial<MtlsOptions> = {}): Promise<MtlsIdentitySource> {
    const source = await MtlsMaterialSource.create(pki.pemOptions('user-service', { crlPath: pki.crlAll, ...extra }));
    sources.push(source);
    return new MtlsIdentitySource(source);
  }

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('envoy', { subject: 'CN=envoy,O=mesh', uri: [ENVOY] });
    direct = await sourceWith();
    proxied = await sourceWith({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: ENVOY } });
  });

  afterAll(() => {
    for (const source of sources) source.close();
    pki?.cleanup();
  });

  /** What Envoy appends for a client certificate: Hash, Cert (URL-encoded PEM), Chain. */
  const xfcc = (name: string) => {
    const issued = pki.certs[name].issued;
    return `By=${ENVOY};Hash=${createHash('sha256').update(issued.certificate.raw).digest('hex')};Cert="${encodeURIComponent(issued.certPem)}";Chain="${encodeURIComponent(issued.chainPem)}"`;
  };
  const identify = (source: MtlsIdentitySource, spec: FakeRequestSpec) => source.identify(httpContext(AT, spec).context);

  describe('the TLS peer', () => {
    it('a verified certificate: its identity, via tls; the same answer for every request on the connection (nothing made per request)', () => {
      const socket = tls('home-page-service');
      const first = identify(direct, { socket });
      expect(first).toMatchObject({ status: 'verified', via: 'tls' });
      expect(subjectOf(first as CallerState)).toBe('CN=home-page-service,O=nest-mtls');
      expect(identify(direct, { socket })).toBe(first);
    });

    it('none, or unverified with OpenSSL\'s reason and the presented subject (nothing of it parsed)', () => {
      expect(identify(direct, { socket: fakeTlsSocket() })).toEqual({ status: 'none' });
      expect(identify(direct, { socket: undefined })).toEqual({ status: 'none' });
      const socket = fakeTlsSocket({ cert: pki.certs.untrusted.issued.certificate, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      expect(identify(direct, { socket })).toEqual({ status: 'unverified', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', subject: 'CN=home-page-service,O=nest-mtls', via: 'tls' });
    });

    it('the same over RPC (the TcpContext\'s socket) and on Fastify (request.raw.socket)', () => {
      expect(subjectOf(direct.identify(rpcContext(AT, { socket: tls('event-service'), pattern: 'get_user' }).context) as CallerState)).toBe('CN=event-service,O=nest-mtls');
      expect(subjectOf(identify(direct, { adapter: 'fastify', socket: tls('event-service') }) as CallerState)).toBe('CN=event-service,O=nest-mtls');
    });
  });

  describe('behind a trusted proxy', () => {
    it('the certificate the proxy forwarded, verified again: via proxy, with the proxy named; a known one is not verified again', async () => {
      const header = { 'x-forwarded-client-cert': xfcc('home-page-service') };
      const caller = await identify(proxied, { socket: tls('envoy'), headers: header });
      expect(caller).toMatchObject({ status: 'verified', via: 'proxy' });
      expect(subjectOf(caller)).toBe('CN=home-page-service,O=nest-mtls');
      expect(caller.status === 'verified' && caller.proxy?.spiffeId).toBe(ENVOY);
      const again = await identify(proxied, { socket: tls('envoy'), headers: header });
      expect(again.status === 'verified' && caller.status === 'verified' && again.identity).toBe(caller.status === 'verified' && caller.identity);
    });

    it('a forwarded certificate that does not verify (another CA, revoked): unverified via proxy, saying why', async () => {
      const untrusted = await identify(proxied, { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': xfcc('untrusted') } });
      expect(untrusted).toMatchObject({ status: 'unverified', via: 'proxy', subject: 'CN=home-page-service,O=nest-mtls' });
      expect(untrusted.status === 'unverified' && untrusted.reason).toMatch(/^forwarded certificate not verified: /);
      const revoked = await identify(proxied, { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': xfcc('revoked') } });
      expect(revoked).toMatchObject({ status: 'unverified', via: 'proxy', problem: 'revoked' });
    });

    it('a header the proxy sent that cannot be read: malformed, with the reason (the guard answers 400)', async () => {
      const caller = await identify(proxied, { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': 'Cert="%E0%A4%A"' } });
      expect(caller).toMatchObject({ status: 'malformed' });
      expect(caller.status === 'malformed' && caller.reason).toMatch(/x-forwarded-client-cert/);
      expect(caller.status === 'malformed' && caller.proxy.subject).toBe('CN=envoy,O=mesh');
    });

    it("anyone else's header is ignored (the caller is its own certificate); the proxy without a header is judged as itself", async () => {
      const header = { 'x-forwarded-client-cert': xfcc('home-page-service') };
      expect(subjectOf(await identify(proxied, { socket: tls('event-service'), headers: header }))).toBe('CN=event-service,O=nest-mtls');
      expect(subjectOf(await identify(proxied, { socket: tls('envoy') }))).toBe('CN=envoy,O=mesh');
      // A message has no headers: its caller is the TLS peer.
      expect(subjectOf(await proxied.identify(rpcContext(AT, { socket: tls('envoy'), pattern: 'get_user' }).context))).toBe('CN=envoy,O=mesh');
      // Without the setting, nobody is a trusted proxy.
      expect(subjectOf(await identify(direct, { socket: tls('envoy'), headers: header }))).toBe('CN=envoy,O=mesh');
    });

    it('stripUntrusted removes the forwarded headers unless the TLS peer is the trusted proxy', () => {
      const fromClient: Record<string, string | undefined> = { 'x-forwarded-client-cert': 'x', accept: '*/*' };
      expect(proxied.stripUntrusted(fromClient, tls('event-service'))).toEqual(['x-forwarded-client-cert']);
      expect(fromClient).toEqual({ accept: '*/*' });
      const fromProxy: Record<string, string | undefined> = { 'x-forwarded-client-cert': 'x' };
      expect(proxied.stripUntrusted(fromProxy, tls('envoy'))).toEqual([]);
      expect(fromProxy).toEqual({ 'x-forwarded-client-cert': 'x' });
      expect(proxied.forwardedHeaders()).toEqual(['x-forwarded-client-cert']);
      expect(direct.forwardedHeaders()).toEqual([]);
    });
  });

  it('endpoint identification is judged only when it is on', async () => {
    const on = await sourceWith({ endpointIdentification: 'HTTPS' });
    const identity = pki.certs['home-page-service'].issued.certificate;
    const caller = identify(direct, { socket: fakeTlsSocket({ cert: identity }) }) as CallerState;
    expect(caller.status).toBe('verified');
    if (caller.status !== 'verified') return;
    expect(direct.checkEndpoint(fakeTlsSocket({ cert: identity, remoteAddress: '192.0.2.7' }), caller.identity)).toBeUndefined();
    expect(await on.checkEndpoint(fakeTlsSocket({ cert: identity, remoteAddress: '127.0.0.1' }), caller.identity)).toMatchObject({ ok: true });
    expect(await on.checkEndpoint(fakeTlsSocket({ cert: identity, remoteAddress: '192.0.2.7' }), caller.identity)).toMatchObject({ ok: false });
    expect(on.checkEndpoint(undefined, caller.identity)).toBeUndefined();
  });
});
