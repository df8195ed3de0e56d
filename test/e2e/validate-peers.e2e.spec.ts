import { Controller, Get, Module, type Type } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { MtlsModule, RequireClientCert, type MtlsOptions } from 'nest-mtls';
import { eachAdapter, HTTP_ADAPTERS, startWithOptions, type CapturingLogger, type HttpAdapterName } from '../support/start-app';
import { rawRpc, startMtlsMicroservice } from '../support/start-microservice';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome } from '../support/tls-probe';
import { waitFor } from '../support/wait-for';

/** How often each handler ran: a refused caller must never reach one. */
const hits = { open: 0, guarded: 0 };

@Controller('p')
class HttpRoutes {
  /** No @RequireClientCert: only the handshake stands between a caller and this route. */
  @Get('open')
  open() {
    hits.open++;
    return { open: true };
  }

  @Get('guarded')
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  guarded() {
    hits.guarded++;
    return { guarded: true };
  }
}

@Controller()
class TcpPatterns {
  @MessagePattern({ cmd: 'open' })
  open() {
    hits.open++;
    return { open: true };
  }

  @MessagePattern({ cmd: 'guarded' })
  @RequireClientCert(/^CN=home-page-service(,|$)/)
  guarded() {
    hits.guarded++;
    return { guarded: true };
  }
}

type Transport = HttpAdapterName | 'tcp';

/** A running endpoint and one call to its open or guarded route/pattern: the status (or the answer) or `refused`. */
interface Endpoint {
  call(target: 'open' | 'guarded', tls: { key?: string; cert?: string; ca: string }): Promise<'refused' | number | 'answered'>;
  logs: CapturingLogger;
  close(): Promise<void>;
}

async function start(transport: Transport, options: MtlsOptions): Promise<Endpoint> {
  if (transport !== 'tcp') {
    const svc = await startWithOptions(options, [HttpRoutes], [], transport);
    return { call: (target, tls) => handshakeOutcome(svc.port, tls, `/p/${target}`), logs: svc.logs, close: () => svc.close() };
  }
  @Module({ imports: [MtlsModule.forRoot(options)], controllers: [TcpPatterns] })
  class TcpApp {}
  const svc = await startMtlsMicroservice(TcpApp as Type);
  return {
    call: async (target, tls) => {
      const outcome = await rawRpc(svc.port, tls, { cmd: target }, {});
      if ('failed' in outcome) return 'refused';
      return outcome.answer.err === undefined ? 'answered' : 403;
    },
    logs: svc.logs,
    close: () => svc.close(),
  };
}

const TRANSPORTS: Transport[] = [...HTTP_ADAPTERS, 'tcp'];
const MODES: Array<[string, Partial<MtlsOptions>]> = [
  ['need mode', { validatePeers: false }],
  ['want mode', { validatePeers: false, needClientAuth: false }],
];

/**
 * Dropwizard's `validatePeers: false` (Jetty's validatePeerCerts) leaves out
 * revocation checking only: the trust manager still verifies the client's
 * chain in the handshake. So here: a self-signed certificate with the name an
 * attacker wants, and one from a CA nobody trusts, never reach a route or a
 * message pattern, guarded or not, in need and want mode, on every transport.
 */
describe.each(TRANSPORTS.flatMap((t) => MODES.map(([mode, extra]): [Transport, string, Partial<MtlsOptions>] => [t, mode, extra])))(
  '%s, %s: validatePeers: false still verifies the chain in the handshake',
  (transport, _mode, extra) => {
    let pki: TestPki;
    let svc: Endpoint;
    let forged: { key: string; cert: string; ca: string };

    beforeAll(async () => {
      pki = await TestPki.create();
      const evil = await pki.selfSigned('evil', { subject: 'CN=home-page-service,O=Evil', extendedKeyUsage: ['clientAuth'] });
      forged = { key: evil.issued.keyPem, cert: evil.issued.certPem, ca: pki.root.certPem };
      svc = await start(transport, pki.pemOptions('user-service', extra));
    });

    afterAll(async () => {
      await svc?.close();
      pki?.cleanup();
    });

    it.each(['open', 'guarded'] as const)('refuses a self-signed CN=home-page-service,O=Evil before the %s route', async (target) => {
      const before = { ...hits };
      expect(await svc.call(target, forged)).toBe('refused');
      expect(hits).toEqual(before);
    });

    it('logs the self-signed refusal with its reason (the repeat from the same host is summarised, not logged again)', async () => {
      const selfSigned = () => svc.logs.lines.filter((l) => /TLS handshake from 127\.0\.0\.1:\d+ refused: unknown_ca \(DEPTH_ZERO_SELF_SIGNED_CERT\)/.test(l));
      await waitFor(() => selfSigned().length > 0, 'the refusal log line');
      expect(selfSigned()).toHaveLength(1);
    });

    it.each(['open', 'guarded'] as const)('refuses a certificate from a CA we do not trust before the %s route', async (target) => {
      const before = { ...hits };
      expect(await svc.call(target, pki.clientTls('untrusted'))).toBe('refused');
      expect(hits).toEqual(before);
    });

    it('says once at startup what validatePeers: false does', () => {
      const warnings = svc.logs.lines.filter((l) => l.includes('validatePeers is false'));
      expect(warnings).toEqual([
        'WARN validatePeers is false: client certificates are not checked for revocation (no CRLs, CRL distribution points or OCSP); their chains are still verified against the trust store in the handshake',
      ]);
    });

    it('control: a verified caller reaches both', async () => {
      const ok = transport === 'tcp' ? 'answered' : 200;
      expect(await svc.call('open', pki.clientTls('home-page-service'))).toBe(ok);
      expect(await svc.call('guarded', pki.clientTls('home-page-service'))).toBe(ok);
      expect(await svc.call('guarded', pki.clientTls('event-service'))).toBe(403);
    });
  },
);

/**
 * Dropwizard ignores its revocation settings when validatePeers is false; we
 * do not half-apply them: startup stops with one line naming both settings.
 */
describe.each(eachAdapter<[string, Partial<MtlsOptions>, string]>([
  ['crlPath', { crlPath: 'CRL' }, 'crlPath'],
  ['enableCRLDP', { enableCRLDP: true }, 'enableCRLDP'],
  ['ocsp', { ocsp: true }, 'ocsp'],
]))('%s: %s with validatePeers: false', (adapter, _name, revocation, setting) => {
  let pki: TestPki;
  beforeAll(async () => (pki = await TestPki.create()));
  afterAll(() => pki?.cleanup());

  it('stops startup with one line naming both settings', async () => {
    const options = pki.pemOptions('user-service', { validatePeers: false, ...revocation, ...(revocation.crlPath ? { crlPath: pki.crlAll } : {}) });
    const failure = await startWithOptions(options, [HttpRoutes], [], adapter).then(
      async (svc) => {
        await svc.close();
        return undefined;
      },
      (err: Error) => err,
    );
    expect(failure?.message).toMatch(new RegExp(`^${setting}: .*validatePeers is false`));
    expect(failure?.message).not.toContain('\n');
  });
});
