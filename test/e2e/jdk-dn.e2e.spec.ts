import { Controller, Get } from '@nestjs/common';
import { ClientCert, MtlsConfigError, mtlsOptionsFromEnv, MtlsPolicyInventory, RequireClientCert, SUBJECT_NOT_RECOGNIZED_MESSAGE } from 'nest-mtls';
import { runService } from '../support/spawn-service';
import { HTTP_ADAPTERS, startUserService, startWithOptions, type RunningApp } from '../support/start-app';
import { httpsGet } from '../support/tls-probe';
import { PASSWORD, TestPki } from '../support/test-pki';

/** The article's filter regexes, as a Dropwizard service configures them (strings, matched with Matcher.matches()). */
const ALLOW_HOME_PAGE = '^CN=home-page-service, OU=Engineering, O=Example, .*$';
const DENY_CONTRACTORS = '^(?!.*, OU=Contractors(,|$)).*$';

@Controller('article')
class ArticleController {
  /** The article's allow-list regex, given as a string. */
  @Get('allow')
  @RequireClientCert(ALLOW_HOME_PAGE)
  allow(@ClientCert('subject') subject: string, @ClientCert('issuer') issuer: string, @ClientCert('dnFormat') dnFormat: string) {
    return { subject, issuer, dnFormat };
  }

  /** A deny-style regex: everyone but the contractors. */
  @Get('deny')
  @RequireClientCert(DENY_CONTRACTORS)
  deny(@ClientCert('subject') subject: string) {
    return { subject };
  }

  /** A JavaScript RegExp stays a JavaScript regex that searches, in either form. */
  @Get('js')
  @RequireClientCert(/CN=home-page-service, OU=Engineering/)
  js() {
    return { ok: true };
  }

  /** A rule's issuer string reads as the subject's does. */
  @Get('issuer')
  @RequireClientCert({ issuer: '^CN=Test Global CA, O=nest-mtls test$' })
  issuer() {
    return { ok: true };
  }
}

@Controller('bad')
class PossessiveController {
  @Get()
  @RequireClientCert('^CN=home-page-service, .*+')
  possessive() {
    return { ok: true };
  }
}

/**
 * The article's DN and full-match regexes over real TLS: a service with
 * MTLS_DN_FORMAT=jdk reads the DN as Java's getSubjectDN().getName() prints
 * it and matches string regexes against the whole of it, as the article's
 * ContainerRequestFilter does; the same service without it (rfc4514) shows
 * why that matters.
 */
describe.each(HTTP_ADAPTERS)('the article\'s DN and regexes over real TLS (%s)', (adapter) => {
  let pki: TestPki;
  let jdk: RunningApp;
  const env = () => ({ MTLS_CERT_PATH: pki.certs['user-service'].chain, MTLS_KEY_PATH: pki.certs['user-service'].key, MTLS_TRUST_STORE_PATH: pki.trustStore });
  const get = (app: RunningApp, path: string, who: string) => httpsGet(app.port, path, pki.clientTls(who));

  beforeAll(async () => {
    pki = await TestPki.create();
    await Promise.all([
      pki.issue('article-home-page', { subject: 'CN=home-page-service,OU=Engineering,O=Example,L=San Francisco,ST=California,C=US' }),
      pki.issue('article-event', { subject: 'CN=event-service,OU=Engineering,O=Example,L=San Francisco,ST=California,C=US' }),
      pki.issue('contractor', { subject: 'CN=bob,OU=Contractors,O=Example' }),
      pki.issue('contractor-ou-last', { subject: 'CN=carol,O=Example,OU=Contractors' }),
      // A CN that spells the allowed DN: Java quotes a value with a comma, so it cannot pass for RDNs.
      pki.issue('smuggler', { subject: 'CN=home-page-service\\, OU=Engineering\\, O=Example\\, L=x,O=Evil' }),
    ]);
    jdk = await startWithOptions(mtlsOptionsFromEnv({ ...env(), MTLS_DN_FORMAT: 'jdk' }), [ArticleController], [], adapter);
  });
  afterAll(async () => {
    await jdk?.close();
    pki?.cleanup();
  });

  it('the allow-list regex admits home-page-service, with the DN Java prints as @ClientCert(\'subject\')', async () => {
    const res = await get(jdk, '/article/allow', 'article-home-page');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      subject: 'CN=home-page-service, OU=Engineering, O=Example, L=San Francisco, ST=California, C=US',
      issuer: 'CN=Test Global CA, O=nest-mtls test',
      dnFormat: 'jdk',
    });
  });

  it('the allow-list regex refuses event-service and the contractor: 403 with the article\'s message, the Java DN in the log', async () => {
    for (const who of ['article-event', 'contractor']) {
      const res = await get(jdk, '/article/allow', who);
      expect({ who, status: res.status, json: res.json }).toEqual({ who, status: 403, json: { statusCode: 403, message: SUBJECT_NOT_RECOGNIZED_MESSAGE } });
    }
    expect(jdk.logs.lines.some((l) => l.startsWith('WARN 403 GET /article/allow') && l.includes('policy refused (rule subject): unexpected subject DN CN=event-service, OU=Engineering, O=Example,') && !l.includes(ALLOW_HOME_PAGE))).toBe(true);
    expect(jdk.logs.lines.some((l) => l.endsWith('policy refused (rule subject): unexpected subject DN CN=bob, OU=Contractors, O=Example'))).toBe(true);
  });

  it('a CN that spells the allowed RDNs is refused: Java quotes it', async () => {
    const res = await get(jdk, '/article/allow', 'smuggler');
    expect(res.status).toBe(403);
    expect(jdk.logs.lines.some((l) => l.endsWith('policy refused (rule subject): unexpected subject DN CN="home-page-service, OU=Engineering, O=Example, L=x", O=Evil'))).toBe(true);
  });

  it('the deny-style regex refuses the contractors and admits the others', async () => {
    const statuses = Object.fromEntries(await Promise.all(['article-home-page', 'article-event', 'contractor', 'contractor-ou-last'].map(async (who) => [who, (await get(jdk, '/article/deny', who)).status])));
    expect(statuses).toEqual({ 'article-home-page': 200, 'article-event': 200, contractor: 403, 'contractor-ou-last': 403 });
  });

  it('a RegExp searches the Java DN; a rule\'s issuer string matches the whole Java DN of the issuer', async () => {
    expect((await get(jdk, '/article/js', 'article-home-page')).status).toBe(200);
    expect((await get(jdk, '/article/js', 'article-event')).status).toBe(403);
    expect((await get(jdk, '/article/issuer', 'contractor')).status).toBe(200);
  });

  it('without MTLS_DN_FORMAT (rfc4514) the same regexes go wrong: the right caller refused, the contractor admitted', async () => {
    // Started last: Nest's static Logger follows the newest application, and the tests above read jdk's log.
    const rfc = await startWithOptions(mtlsOptionsFromEnv(env()), [ArticleController], [], adapter);
    try {
      expect((await get(rfc, '/article/allow', 'article-home-page')).status).toBe(403);
      expect((await get(rfc, '/article/deny', 'contractor')).status).toBe(200);
      expect((await get(rfc, '/article/issuer', 'contractor')).status).toBe(403);
    } finally {
      await rfc.close();
    }
  });

  it('the policy inventory describes a string regex as the Java regex it is', () => {
    const entry = jdk.app.get(MtlsPolicyInventory).list().find((e) => e.route === 'GET /article/allow');
    expect(entry?.policy).toBe(`subject DN matches the Java regex "${ALLOW_HOME_PAGE}" (the whole DN)`);
  });

  it('a Java regex JavaScript cannot match exactly stops the application before it listens, naming the route and the construct', async () => {
    let error: unknown;
    try {
      const app = await startWithOptions(mtlsOptionsFromEnv({ ...env(), MTLS_DN_FORMAT: 'jdk' }), [PossessiveController], [], adapter);
      await app.close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MtlsConfigError);
    expect((error as Error).message).toBe(
      'dnFormat: @RequireClientCert on PossessiveController.possessive: the Java regex "^CN=home-page-service, .*+" cannot be used (dnFormat jdk): *+ at character 25: a possessive quantifier, which JavaScript does not have',
    );
  });
});

/** The demo's user-service run with MTLS_DN_FORMAT=jdk: its RegExp policy still admits home-page-service, the logs carry the Java DN. */
describe.each(HTTP_ADAPTERS)('user-service with MTLS_DN_FORMAT=jdk (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startUserService(pki, { MTLS_DN_FORMAT: 'jdk' }, adapter);
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('admits home-page-service and refuses event-service, logging the subject as Java prints it', async () => {
    expect((await httpsGet(svc.port, '/users/1', pki.clientTls('home-page-service'))).status).toBe(200);
    const refused = await httpsGet(svc.port, '/users/1', pki.clientTls('event-service'));
    expect(refused).toMatchObject({ status: 403, json: { statusCode: 403, message: SUBJECT_NOT_RECOGNIZED_MESSAGE } });
    expect(svc.logs.lines.some((l) => l.startsWith('WARN 403 GET /users/1') && l.endsWith('policy refused (rule subject): unexpected subject DN CN=event-service, O=nest-mtls'))).toBe(true);
  });
});

/** A bad MTLS_DN_FORMAT, or a trusted proxy's Java regex JavaScript cannot honour, stops the built user-service with one line. */
describe('user-service fails fast on the DN form', () => {
  let pki: TestPki;
  let good: Record<string, string>;

  beforeAll(async () => {
    pki = await TestPki.create();
    good = { MTLS_KEY_STORE_PATH: pki.certs['user-service'].p12, MTLS_KEY_STORE_PASSWORD: PASSWORD, MTLS_TRUST_STORE_PATH: pki.trustStore };
  });
  afterAll(() => pki?.cleanup());

  it('starts with MTLS_DN_FORMAT=jdk', async () => {
    expect((await runService('user-service', { ...good, MTLS_DN_FORMAT: 'jdk' })).listened).toBe(true);
  });

  it.each([
    ['an unknown form', { MTLS_DN_FORMAT: 'java' }, 'user-service: configuration error: MTLS_DN_FORMAT (dnFormat): must be one of rfc4514, jdk, got "java"'],
    ['a misspelt variable', { MTLS_DN_FORMATS: 'jdk' }, 'user-service: configuration error: MTLS_DN_FORMATS: not a setting of nest-mtls; did you mean MTLS_DN_FORMAT?'],
    [
      'a trusted proxy\'s possessive quantifier',
      { MTLS_DN_FORMAT: 'jdk', MTLS_FORWARDED_CERT_HEADER: 'x-forwarded-client-cert', MTLS_TRUSTED_PROXY: '^CN=envoy++, O=mesh$' },
      'user-service: configuration error: MTLS_TRUSTED_PROXY (trustedProxy): the Java regex "^CN=envoy++, O=mesh$" cannot be used (dnFormat jdk): ++ at character 10: a possessive quantifier, which JavaScript does not have',
    ],
  ])('%s', async (_label, vars, line) => {
    const run = await runService('user-service', { ...good, ...vars });
    expect(run.listened).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n').at(-1)).toBe(line);
  });
});
