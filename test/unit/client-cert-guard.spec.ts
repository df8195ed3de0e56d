import { BadRequestException, Controller, Get, HttpException, Logger, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { MessagePattern, RpcException } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { WsException } from '@nestjs/websockets';
import {
  ClientCert,
  ClientCertForbiddenException,
  ClientCertGuard,
  ClientCertMode,
  MtlsEvents,
  MtlsIdentitySource,
  MtlsMaterialSource,
  RequireAnyClientCert,
  RequireClientCert,
  type ClientIdentity,
  type GuardDecision,
  type MtlsOptions,
} from 'nest-mtls';
import { DnFormatError, identityFromCertificateModule, rememberCallConnection } from 'nest-mtls/internal';
import { fakeTlsSocket, grpcContext, httpContext, otherContext, route, rpcContext, wsContext, type FakeRequestSpec, type Route } from '../support/fake-execution-context';
import { spiffe, TestPki } from '../support/test-pki';

const HPS = spiffe('home-page-service');
const ENVOY = spiffe('envoy');
const REFUSED = { statusCode: 403, message: 'Certificate subject is not recognized!' };
const NO_CHAIN = { statusCode: 403, message: 'No certificate chain found!' };

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class UsersController {
  @Get(':id')
  findOne() {}

  /** The handler's policy wins over the controller's. */
  @Get('events')
  @RequireClientCert({ spiffeId: spiffe('event-service') })
  events() {}

  @Get('trial')
  @ClientCertMode('audit')
  trial() {}
}

function isAuditor(identity: ClientIdentity) {
  return identity.commonName === 'auditor';
}
function boom(): boolean {
  throw new Error('directory unreachable');
}

/** One route per kind of rule, each refusing event-service's certificate. */
@Controller('r')
class RulesController {
  @RequireClientCert(/^CN=home-page-service(,|$)/) subject() {}
  @RequireClientCert({ issuer: /^CN=Payments CA,/ }) issuer() {}
  @RequireClientCert({ cn: 'home-page-service' }) cn() {}
  @RequireClientCert({ ou: 'payments' }) ou() {}
  @RequireClientCert({ dns: 'api.example.org' }) dns() {}
  @RequireClientCert({ uri: 'https://example.org/hps' }) uri() {}
  @RequireClientCert({ email: 'ops@example.org' }) email() {}
  @RequireClientCert({ ip: '10.0.0.0/8' }) ip() {}
  @RequireClientCert({ spiffeId: HPS }) spiffeId() {}
  @RequireClientCert({ spiffeTrustDomain: 'payments.example' }) spiffeTrustDomain() {}
  @RequireClientCert({ fingerprint256: 'AB'.repeat(32) }) fingerprint256() {}
  @RequireClientCert(/^CN=api,/, { spiffeId: HPS }) anyOf() {}
  @RequireClientCert({ dns: 'localhost', spiffeId: HPS }) allOf() {}
  @RequireClientCert(isAuditor) custom() {}
  @RequireClientCert(boom) throws() {}
}

class OpenController {
  /** No @RequireClientCert: the module's defaultPolicy decides (a global guard). */
  undecorated() {}
  @RequireAnyClientCert() any() {}
}

class TcpUsersController {
  @MessagePattern({ cmd: 'get_user' })
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  getUser() {}
}

/** What @ClientCert() gives a handler, by Nest's own metadata of the parameter decorator. */
function clientCertParam(field?: keyof ClientIdentity): (context: ExecutionContext) => unknown {
  class Probe {
    handler(@ClientCert(field) _value: unknown) {}
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, 'handler') as Record<string, { factory: (data: unknown, context: ExecutionContext) => unknown; data: unknown }>;
  const { factory, data } = Object.values(args)[0];
  return (context) => factory(data, context);
}

/** A guard as MtlsModule provides it, what it logs (warn lines and their JSON fields), and the decisions it tells MtlsEvents. */
interface Judge {
  guard: ClientCertGuard;
  lines: string[];
  fields: Array<Record<string, unknown>>;
  decisions: GuardDecision[];
}

describe('ClientCertGuard (fake ExecutionContext, real certificates)', () => {
  let pki: TestPki;
  const sources: MtlsMaterialSource[] = [];
  let plain: MtlsMaterialSource;
  const cert = (name: string) => pki.certs[name].issued.certificate;
  const tls = (name: string) => fakeTlsSocket({ cert: cert(name) });

  beforeAll(async () => {
    pki = await TestPki.create();
    await pki.issue('envoy', { subject: 'CN=envoy,O=mesh', uri: [ENVOY] });
    await pki.issue('unreadable', { subject: 'CN=home-page-service,O=nest-mtls' }); // a certificate no test has built an identity of
    plain = await sourceWith();
  });

  afterAll(() => {
    for (const source of sources) source.close();
    pki?.cleanup();
  });

  async function sourceWith(extra: Partial<MtlsOptions> = {}): Promise<MtlsMaterialSource> {
    const source = await MtlsMaterialSource.create(pki.pemOptions('user-service', extra));
    sources.push(source);
    return source;
  }

  /** The guard through Nest's injector, with the providers MtlsModule gives it. */
  async function judgeWith(source: MtlsMaterialSource = plain): Promise<Judge> {
    const moduleRef = await Test.createTestingModule({
      providers: [ClientCertGuard, Reflector, MtlsIdentitySource, MtlsEvents, { provide: MtlsMaterialSource, useValue: source }],
    }).compile();
    const guard = moduleRef.get(ClientCertGuard);
    const judge: Judge = { guard, lines: [], fields: [], decisions: [] };
    const logger = (guard as unknown as { logger: Logger }).logger;
    jest.spyOn(logger, 'warn').mockImplementation((message: unknown, ...params: unknown[]) => {
      judge.lines.push(String(message));
      judge.fields.push((params[0] ?? {}) as Record<string, unknown>);
    });
    moduleRef.get(MtlsEvents).guardDecisions.subscribe((d) => judge.decisions.push(d));
    return judge;
  }

  /** canActivate's answer, or what it threw. */
  async function verdict(guard: ClientCertGuard, context: ExecutionContext): Promise<boolean | Error> {
    try {
      return await guard.canActivate(context);
    } catch (err) {
      return err as Error;
    }
  }

  const http = (at: Route, spec: FakeRequestSpec) => httpContext(at, spec).context;
  const answerOf = (err: unknown) => (err as HttpException).getResponse();

  describe('a caller without a verified certificate is refused in every mode, and the log says why', () => {
    it('no certificate: 403 "No certificate chain found!"', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket: fakeTlsSocket({ authorized: false }) }));
      expect(refused).toBeInstanceOf(ClientCertForbiddenException);
      expect(answerOf(refused)).toEqual(NO_CHAIN);
      expect(lines).toEqual(['403 GET /users/1 from 127.0.0.1:5000: no client certificate']);
      expect(decisions).toEqual([expect.objectContaining({ route: '/users/:id', outcome: 'refused', reason: 'no-certificate', mode: 'enforce', peer: '127.0.0.1:5000' })]);
      // A connection that is not TLS at all is a caller without a certificate too.
      expect(answerOf(await verdict(guard, http(route(UsersController, 'findOne'), { socket: { remoteAddress: '127.0.0.2', remotePort: 1 } as never })))).toEqual(NO_CHAIN);
    });

    it('unverified: 403 "No certificate chain found!", OpenSSL\'s verify error and the presented subject in the log', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const socket = fakeTlsSocket({ cert: cert('untrusted'), authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket }));
      expect(answerOf(refused)).toEqual(NO_CHAIN);
      expect(lines).toEqual(['403 GET /users/1 from 127.0.0.1:5000: certificate not verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE), presented subject CN=home-page-service,O=nest-mtls']);
      expect(decisions).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'unverified', via: 'tls', subject: undefined })]);
    });

    it('unreadable: a verified certificate whose names cannot be printed exactly is refused, never guessed at', async () => {
      const { guard, lines, decisions } = await judgeWith();
      // OpenSSL and our DN printer refuse the same encodings (test/unit/dn-format.spec.ts), so a certificate that verifies
      // and cannot be printed takes a bug on either side: the identity layer's verdict stands in for one here.
      const build = jest.spyOn(identityFromCertificateModule, 'identityFromCertificate').mockImplementationOnce(() => {
        throw new DnFormatError('cannot read the certificate names: UTF8String is not valid UTF-8');
      });
      const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('unreadable') }));
      build.mockRestore();
      expect(answerOf(refused)).toEqual(REFUSED);
      expect(lines).toEqual([
        '403 GET /users/1 from 127.0.0.1:5000: subject could not be parsed: cannot read the certificate names: UTF8String is not valid UTF-8 (presented subject CN=home-page-service,O=nest-mtls)',
      ]);
      expect(decisions).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'unreadable' })]);
    });

    it('audit mode does not let a caller without a certificate in', async () => {
      const { guard } = await judgeWith(await sourceWith({ policyMode: 'audit' }));
      expect(answerOf(await verdict(guard, http(route(UsersController, 'trial'), { socket: fakeTlsSocket() })))).toEqual(NO_CHAIN);
    });

    it('a context nest-mtls does not read (graphql) has no certificate: refused', async () => {
      const { guard, lines } = await judgeWith();
      expect(answerOf(await verdict(guard, otherContext('graphql', route(UsersController, 'findOne'))))).toEqual(NO_CHAIN);
      expect(lines).toEqual(['403 graphql from unknown: no client certificate']);
    });
  });

  describe('a verified caller: admitted, or refused with the rule and what was found in the log only', () => {
    it('admitted: true, @ClientCert() gives the identity the policy saw, the decision is told', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const { context } = httpContext(route(UsersController, 'findOne'), { socket: tls('home-page-service') });
      expect(await verdict(guard, context)).toBe(true);
      expect((clientCertParam()(context) as ClientIdentity).subject).toBe('CN=home-page-service,O=nest-mtls');
      expect(clientCertParam('spiffeId')(context)).toBe(HPS);
      expect(lines).toEqual([]);
      expect(decisions).toEqual([{ route: '/users/:id', peer: '127.0.0.1:5000', outcome: 'allowed', mode: 'enforce', via: 'tls', subject: 'CN=home-page-service,O=nest-mtls' }]);
    });

    // Each rule refuses event-service (CN=event-service,O=nest-mtls, spiffe://example.org/event-service, DNS localhost, IP 127.0.0.1 and ::1).
    const SUBJECT = ' (subject CN=event-service,O=nest-mtls)';
    it.each([
      ['subject', 'unexpected subject DN CN=event-service,O=nest-mtls', 'subject'],
      ['issuer', `unexpected issuer DN CN=Test Global CA,O=nest-mtls test${SUBJECT}`, 'issuer'],
      ['cn', `unexpected CN event-service${SUBJECT}`, 'cn'],
      ['ou', `no OU in the subject${SUBJECT}`, 'ou'],
      ['dns', `unexpected DNS SAN localhost${SUBJECT}`, 'dns'],
      ['uri', `unexpected URI SAN spiffe://example.org/event-service${SUBJECT}`, 'uri'],
      ['email', `no e-mail SAN${SUBJECT}`, 'email'],
      ['ip', `unexpected IP SAN 127.0.0.1, ::1${SUBJECT}`, 'ip'],
      ['spiffeId', `unexpected SPIFFE ID spiffe://example.org/event-service${SUBJECT}`, 'spiffeId'],
      ['spiffeTrustDomain', `unexpected SPIFFE trust domain example.org${SUBJECT}`, 'spiffeTrustDomain'],
      ['fingerprint256', `unexpected SHA-256 fingerprint FP${SUBJECT}`, 'fingerprint256'],
      ['anyOf', 'no alternative admits it: unexpected subject DN CN=event-service,O=nest-mtls; unexpected SPIFFE ID spiffe://example.org/event-service', 'anyOf'],
      ['allOf', `unexpected SPIFFE ID spiffe://example.org/event-service${SUBJECT}`, 'spiffeId'],
      ['custom', `custom policy isAuditor refused it${SUBJECT}`, 'custom'],
      ['throws', `custom policy boom threw (directory unreachable): refused${SUBJECT}`, 'custom'],
    ] as const)('rule %s: 403 with the article\'s message; the log names the rule\'s reason', async (handler: string, reason: string, rule: string) => {
      const { guard, lines, fields, decisions } = await judgeWith();
      const words = reason.replace('FP', cert('event-service').fingerprint256.replace(/:/g, ''));
      const refused = await verdict(guard, http(route(RulesController, handler as keyof RulesController), { url: `/r/${handler}`, path: `/r/${handler}`, socket: tls('event-service') }));
      expect(refused).toBeInstanceOf(ClientCertForbiddenException);
      // The caller learns nothing of the policy or of what was checked.
      expect(answerOf(refused)).toEqual(REFUSED);
      expect(lines).toEqual([`403 GET /r/${handler} from 127.0.0.1:5000: policy refused (rule ${rule}): ${words}`]);
      // Nor does the log: what the rule wanted is for `mtls explain`, not for the refusal line.
      expect(lines[0]).not.toMatch(/home-page-service|Payments CA|payments|api\.example|example\.org\/hps|ops@|10\.0\.0\.0|ABABAB|CN=api/);
      expect(fields).toEqual([
        { event: 'guard_refused', reason: 'policy', rule, route: `/r/${handler}`, peer: '127.0.0.1:5000', subject: 'CN=event-service,O=nest-mtls', via: 'tls' },
      ]);
      expect(decisions).toEqual([expect.objectContaining({ route: `/r/${handler}`, outcome: 'refused', reason: 'policy', rule, detail: `policy refused (rule ${rule}): ${words}` })]);
    });

    it("defaultPolicy 'deny': a route without a policy admits nobody (rule deny); @RequireAnyClientCert any verified caller", async () => {
      const { guard, lines, decisions } = await judgeWith(await sourceWith({ defaultPolicy: 'deny' }));
      const refused = await verdict(guard, http(route(OpenController, 'undecorated'), { url: '/open', path: '/open', socket: tls('home-page-service') }));
      expect(answerOf(refused)).toEqual(REFUSED);
      expect(lines).toEqual(['403 GET /open from 127.0.0.1:5000: policy refused (rule deny): nobody is admitted (defaultPolicy deny) (subject CN=home-page-service,O=nest-mtls)']);
      expect(decisions).toEqual([expect.objectContaining({ reason: 'policy', rule: 'deny' })]);
      expect(await verdict(guard, http(route(OpenController, 'any'), { socket: tls('home-page-service') }))).toBe(true);
      // The default 'allow': any verified certificate.
      expect(await verdict((await judgeWith()).guard, http(route(OpenController, 'undecorated'), { socket: tls('event-service') }))).toBe(true);
    });

    it("the handler's @RequireClientCert wins over the controller's", async () => {
      const { guard } = await judgeWith();
      expect(await verdict(guard, http(route(UsersController, 'events'), { socket: tls('event-service') }))).toBe(true);
      expect(answerOf(await verdict(guard, http(route(UsersController, 'events'), { socket: tls('home-page-service') })))).toEqual(REFUSED);
      expect(await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('home-page-service') }))).toBe(true);
      expect(answerOf(await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('event-service') })))).toEqual(REFUSED);
    });

    it('Fastify\'s request (request.raw.socket, routeOptions.url) reads as Express\'s', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const { context } = httpContext(route(UsersController, 'findOne'), { adapter: 'fastify', url: '/users/7?x=1', socket: tls('home-page-service') });
      expect(await verdict(guard, context)).toBe(true);
      expect(clientCertParam('commonName')(context)).toBe('home-page-service');
      expect(answerOf(await verdict(guard, http(route(UsersController, 'findOne'), { adapter: 'fastify', url: '/users/7?x=1', socket: tls('event-service') })))).toEqual(REFUSED);
      expect(lines).toEqual(['403 GET /users/7?x=1 from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls']);
      expect(decisions.map((d) => [d.route, d.outcome])).toEqual([
        ['/users/:id', 'allowed'],
        ['/users/:id', 'refused'],
      ]);
    });
  });

  describe('audit mode', () => {
    it('@ClientCertMode(\'audit\'): the caller the policy refuses is let in, logged with the reason and counted as audited', async () => {
      const { guard, lines, fields, decisions } = await judgeWith();
      const { context } = httpContext(route(UsersController, 'trial'), { url: '/users/trial', path: '/users/trial', socket: tls('event-service') });
      expect(await verdict(guard, context)).toBe(true);
      expect(clientCertParam('subject')(context)).toBe('CN=event-service,O=nest-mtls');
      expect(lines).toEqual([
        'audit mode: would refuse GET /users/trial from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls; let in',
      ]);
      expect(fields[0]).toMatchObject({ event: 'guard_audited', reason: 'policy', rule: 'subject' });
      expect(decisions).toEqual([expect.objectContaining({ outcome: 'audited', mode: 'audit', reason: 'policy', rule: 'subject', subject: 'CN=event-service,O=nest-mtls' })]);
    });

    it("policyMode 'audit' for the whole module; a handler's @ClientCertMode('enforce') still refuses", async () => {
      @RequireClientCert({ spiffeId: HPS })
      class Audited {
        reports() {}
        @ClientCertMode('enforce') strict() {}
      }
      const { guard, lines } = await judgeWith(await sourceWith({ policyMode: 'audit' }));
      expect(await verdict(guard, http(route(Audited, 'reports'), { socket: tls('event-service') }))).toBe(true);
      expect(lines[0]).toMatch(/^audit mode: would refuse GET \/users\/1 from 127\.0\.0\.1:5000: policy refused \(rule spiffeId\): unexpected SPIFFE ID spiffe:\/\/example\.org\/event-service \(subject CN=event-service,O=nest-mtls\); let in$/);
      expect(answerOf(await verdict(guard, http(route(Audited, 'strict'), { socket: tls('event-service') })))).toEqual(REFUSED);
    });
  });

  it('a global guard and @RequireClientCert\'s judge (and count) a request once', async () => {
    const global = await judgeWith();
    const own = new ClientCertGuard(new Reflector(), plain);
    const { context } = httpContext(route(UsersController, 'findOne'), { socket: tls('home-page-service') });
    expect(await verdict(global.guard, context)).toBe(true);
    const owns = jest.spyOn(own as unknown as { judge: () => unknown }, 'judge');
    expect(await verdict(own, context)).toBe(true);
    expect(owns).not.toHaveBeenCalled();
    expect(global.decisions).toHaveLength(1);
    // A guard of another class (an application's subclass) judges for itself.
    class StricterGuard extends ClientCertGuard {}
    const stricter = new StricterGuard(new Reflector(), plain);
    const judged = jest.spyOn(stricter as unknown as { judge: () => unknown }, 'judge');
    expect(await verdict(stricter, context)).toBe(true);
    expect(judged).toHaveBeenCalledTimes(1);
  });

  describe('RPC (TCP microservices)', () => {
    it('refused with an RpcException carrying the article\'s message; the log and metrics name the declared pattern, not the peer\'s spelling', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const at = route(TcpUsersController, 'getUser');
      const refused = await verdict(guard, rpcContext(at, { socket: tls('event-service'), pattern: '{ "cmd" :  "get_user" }' }).context);
      expect(refused).toBeInstanceOf(RpcException);
      expect((refused as RpcException).getError()).toBe('Certificate subject is not recognized!');
      expect(lines).toEqual([
        'refused RPC {"cmd":"get_user"} from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls',
      ]);
      expect(decisions).toEqual([expect.objectContaining({ route: '{"cmd":"get_user"}', outcome: 'refused', reason: 'policy', rule: 'subject' })]);

      const { context } = rpcContext(at, { socket: tls('home-page-service'), pattern: '{"cmd":"get_user"}' });
      expect(await verdict(guard, context)).toBe(true);
      expect(clientCertParam('subject')(context)).toBe('CN=home-page-service,O=nest-mtls');
    });

    it('a message without a certificate: RpcException "No certificate chain found!"', async () => {
      const { guard, lines } = await judgeWith();
      const refused = await verdict(guard, rpcContext(route(TcpUsersController, 'getUser'), { socket: fakeTlsSocket(), pattern: '{"cmd":"get_user"}' }).context);
      expect((refused as RpcException).getError()).toBe('No certificate chain found!');
      expect(lines).toEqual(['refused RPC {"cmd":"get_user"} from 127.0.0.1:5000: no client certificate']);
    });
  });

  describe('WebSockets (ws adapter)', () => {
    it('refused with a WsException carrying the article\'s message, labelled by the declared pattern; an admission is kept by the message, not the connection', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const at = route(TcpUsersController, 'getUser');
      const refused = await verdict(guard, wsContext(at, { client: { _socket: tls('event-service') }, pattern: 'get_user' }));
      expect(refused).toBeInstanceOf(WsException);
      expect((refused as WsException).getError()).toBe('Certificate subject is not recognized!');
      expect(lines).toEqual(['refused WS get_user from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls']);
      expect(decisions).toEqual([expect.objectContaining({ route: 'get_user', outcome: 'refused', reason: 'policy', rule: 'subject' })]);

      const client = { _socket: tls('home-page-service') };
      const first = wsContext(at, { client, pattern: 'get_user', data: { id: 1 } });
      expect(await verdict(guard, first)).toBe(true);
      expect(clientCertParam('subject')(first)).toBe('CN=home-page-service,O=nest-mtls');
      // The next message on the same connection carries no admission of its own until the guard judges it.
      expect(clientCertParam('subject')(wsContext(at, { client, pattern: 'get_user', data: { id: 2 } }))).toBeUndefined();
    });

    it('a client without a socket (socket.io) or a certificate: WsException "No certificate chain found!"', async () => {
      const { guard } = await judgeWith();
      const at = route(TcpUsersController, 'getUser');
      for (const client of [{}, { _socket: fakeTlsSocket() }]) {
        const refused = await verdict(guard, wsContext(at, { client, pattern: 'get_user' }));
        expect((refused as WsException).getError()).toBe('No certificate chain found!');
      }
    });
  });

  describe('gRPC (@GrpcMethod handlers on MtlsGrpcServer)', () => {
    const GET_USER = '/users.UserService/GetUser';
    /** A grpc-js server call as MtlsGrpcServer hands it on: registered with the TLS connection it came on (none: unregistered). */
    const grpcCall = (socket?: ReturnType<typeof fakeTlsSocket>) => {
      const call = { getPath: () => GET_USER };
      if (socket) rememberCallConnection(call, socket as never);
      return call;
    };

    it('refused with an RpcException carrying PERMISSION_DENIED (7) and the article\'s message, labelled by the method path', async () => {
      const { guard, lines, decisions } = await judgeWith();
      const refused = await verdict(guard, grpcContext(route(TcpUsersController, 'getUser'), { call: grpcCall(tls('event-service')) }));
      expect(refused).toBeInstanceOf(RpcException);
      expect((refused as RpcException).getError()).toEqual({ code: 7, message: 'Certificate subject is not recognized!' });
      expect(lines).toEqual([`refused gRPC ${GET_USER} from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls`]);
      expect(decisions).toEqual([expect.objectContaining({ route: GET_USER, outcome: 'refused', reason: 'policy', rule: 'subject' })]);
    });

    it('admitted: @ClientCert() reads the identity kept by the call; another call on the same connection carries none until judged', async () => {
      const { guard } = await judgeWith();
      const at = route(TcpUsersController, 'getUser');
      const socket = tls('home-page-service');
      const first = grpcContext(at, { call: grpcCall(socket) });
      expect(await verdict(guard, first)).toBe(true);
      expect(clientCertParam('subject')(first)).toBe('CN=home-page-service,O=nest-mtls');
      expect(clientCertParam('subject')(grpcContext(at, { call: grpcCall(socket) }))).toBeUndefined();
    });

    it('a call no MtlsGrpcServer registered (another gRPC server: no connection known), or a connection without a certificate: PERMISSION_DENIED "No certificate chain found!"', async () => {
      const { guard, lines } = await judgeWith();
      for (const call of [grpcCall(), grpcCall(fakeTlsSocket())]) {
        const refused = await verdict(guard, grpcContext(route(TcpUsersController, 'getUser'), { call }));
        expect((refused as RpcException).getError()).toEqual({ code: 7, message: 'No certificate chain found!' });
      }
      expect(lines[0]).toMatch(new RegExp(`^refused gRPC ${GET_USER.replace(/\./g, '\\.')} from .*: no client certificate$`));
    });
  });

  describe('behind a trusted proxy', () => {
    let proxied: MtlsMaterialSource;
    beforeAll(async () => {
      proxied = await sourceWith({ forwardedCertHeader: 'x-forwarded-client-cert', trustedProxy: { spiffeId: ENVOY } });
    });
    const xfcc = (name: string) => `By=${ENVOY};Cert="${encodeURIComponent(pki.certs[name].issued.certPem)}"`;

    it('a malformed forwarded header from the trusted proxy: 400 saying what is wrong, the proxy named in the log', async () => {
      const { guard, lines, decisions } = await judgeWith(proxied);
      const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': 'Cert="%E0%A4%A"' } }));
      expect(refused).toBeInstanceOf(BadRequestException);
      const answer = answerOf(refused) as { statusCode: number; message: string };
      expect(answer.statusCode).toBe(400);
      expect(answer.message).toMatch(/x-forwarded-client-cert/);
      expect(lines).toEqual([`400 GET /users/1 from 127.0.0.1:5000 (trusted proxy CN=envoy,O=mesh): ${answer.message}`]);
      expect(decisions).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'malformed-forwarded-header', via: 'proxy', subject: 'CN=envoy,O=mesh' })]);
    });

    it('a forwarded caller the policy refuses: the reason, and the proxy that forwarded it', async () => {
      const { guard, lines, decisions } = await judgeWith(proxied);
      const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': xfcc('event-service') } }));
      expect(answerOf(refused)).toEqual(REFUSED);
      expect(lines).toEqual([
        '403 GET /users/1 from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN CN=event-service,O=nest-mtls, forwarded by the trusted proxy CN=envoy,O=mesh',
      ]);
      expect(decisions).toEqual([expect.objectContaining({ outcome: 'refused', reason: 'policy', rule: 'subject', via: 'proxy', subject: 'CN=event-service,O=nest-mtls' })]);
      const { context } = httpContext(route(UsersController, 'findOne'), { socket: tls('envoy'), headers: { 'x-forwarded-client-cert': xfcc('home-page-service') } });
      expect(await verdict(guard, context)).toBe(true);
      expect(clientCertParam('subject')(context)).toBe('CN=home-page-service,O=nest-mtls');
    });
  });

  it("endpoint identification: a certificate that does not name the caller's address is refused (reason endpoint-identification)", async () => {
    const { guard, lines, decisions } = await judgeWith(await sourceWith({ endpointIdentification: 'HTTPS' }));
    const refused = await verdict(guard, http(route(UsersController, 'findOne'), { socket: fakeTlsSocket({ cert: cert('home-page-service'), remoteAddress: '192.0.2.7' }) }));
    expect(answerOf(refused)).toEqual(REFUSED);
    expect(lines[0]).toMatch(/^403 GET \/users\/1 from 192\.0\.2\.7:5000: .*192\.0\.2\.7.* \(subject CN=home-page-service,O=nest-mtls\)$/);
    expect(decisions).toEqual([expect.objectContaining({ reason: 'endpoint-identification', rule: undefined })]);
    expect(await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('home-page-service') }))).toBe(true);
  });

  it('a refusal from one peer floods the log with one line, then a count', async () => {
    const { guard, lines } = await judgeWith();
    for (let i = 0; i < 50; i++) await verdict(guard, http(route(UsersController, 'findOne'), { socket: tls('event-service') }));
    expect(lines).toHaveLength(1);
  });
});
