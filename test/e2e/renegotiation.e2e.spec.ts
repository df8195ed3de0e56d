import { UsersController } from '../../apps/user-service/src/users.controller';
import { UsersService } from '../../apps/user-service/src/users.service';
import { compiledClient } from '../support/c-client';
import { eachAdapter, startWithOptions, type RunningApp } from '../support/start-app';
import { PASSWORD, TestPki } from '../support/test-pki';
import { run } from '../support/tls-probe';

/**
 * The renegotiation identity swap: a client handshakes over TLS 1.2 with a
 * trusted certificate (CN=event-service), then renegotiates presenting a
 * SELF-SIGNED CN=home-page-service and asks for a user. Every handshake on a
 * socket must be judged: the renegotiation fails verification, so the
 * connection ends and nothing is served.
 */
describe.each(
  eachAdapter<[string, object]>([
    ['want mode (needClientAuth: false)', { needClientAuth: false }],
    ['validatePeers: false (revocation checking off, chains verified)', { validatePeers: false }],
    ['default mode', {}],
  ]),
)('%s: renegotiation to an unverified certificate, %s, allowRenegotiation: true', (adapter, _mode, extra) => {
  let pki: TestPki;
  let svc: RunningApp;
  let forged: { cert: string; key: string };
  let client: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    client = compiledClient('reneg-swap-client');
    // What an attacker makes in one line: a self-signed leaf fit for client authentication, with the name it wants.
    forged = await pki.selfSigned('forged', { subject: 'CN=home-page-service,O=nest-mtls', extendedKeyUsage: ['clientAuth'] });
    svc = await startWithOptions(
      { keyStorePath: pki.certs['user-service'].p12, keyStorePassword: PASSWORD, trustStorePath: pki.trustStore, allowRenegotiation: true, ...extra },
      [UsersController],
      [UsersService],
      adapter,
    );
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  /**
   * Connects as `who` over TLS 1.2 (a real OpenSSL client), renegotiates presenting `swapTo`
   * (default: the same certificate), then asks for /users/1 on the same connection.
   */
  async function swapAndRead(who: string, swapTo?: { cert: string; key: string }) {
    const a = pki.certs[who];
    const b = swapTo ?? { cert: a.chain, key: a.key };
    const { stdout, stderr } = await run(client, ['127.0.0.1', String(svc.port), pki.trustStore, a.chain, a.key, b.cert, b.key, '/users/1']);
    const status = /^answer: HTTP\/1\.1 (\d{3})/m.exec(stdout);
    if (!/handshake ok/.test(stdout)) throw new Error(`first handshake failed: ${stdout} ${stderr}`);
    return {
      renegotiated: /renegotiation ok/.test(stdout) ? 'renegotiated' : 'failed',
      answer: status ? { status: Number(status[1]) } : /closed/.test(stdout) ? 'closed' : stdout,
    };
  }

  it('control: the same client renegotiates keeping its trusted certificate and is judged by it (403 for event-service)', async () => {
    const { renegotiated, answer } = await swapAndRead('event-service');
    expect(renegotiated).toBe('renegotiated');
    expect(answer).toMatchObject({ status: 403 });
  });

  it('control: home-page-service renegotiating with its own trusted certificate still reads the user', async () => {
    const { answer } = await swapAndRead('home-page-service');
    expect(answer).toMatchObject({ status: 200 });
  });

  it('ends the connection when the renegotiation presents a self-signed CN=home-page-service (no user is served), and logs it once', async () => {
    const before = svc.logs.lines.length;
    expect((await swapAndRead('event-service', forged)).answer).toBe('closed');
    // The same attack again from the same host: refused again, counted into the repeat summary, not logged again.
    expect((await swapAndRead('event-service', forged)).answer).toBe('closed');
    await new Promise((r) => setTimeout(r, 200));
    const lines = svc.logs.lines.slice(before).filter((l) => /renegotiation/i.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^WARN TLS renegotiation from 127\.0\.0\.1:\d+ refused: unknown_ca \(DEPTH_ZERO_SELF_SIGNED_CERT\); presented subject CN=home-page-service,O=nest-mtls/);
  });
});
