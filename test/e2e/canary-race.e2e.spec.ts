import { Controller, Get } from '@nestjs/common';
import { MtlsMaterialSource, RequireClientCert, type MtlsReloadResult } from 'nest-mtls';
import { onCanaryListening } from 'nest-mtls/internal';
import { createCrl, issueCertificate } from 'nest-mtls/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { filter, firstValueFrom } from 'rxjs';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { handshakeOutcome } from '../support/tls-probe';

@Controller('health')
@RequireClientCert()
class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

/** Another process that connects to every port it is told about, again and again (plain TCP with garbage, and TLS without a certificate), until told that port is done. */
const HAMMER = `
const net = require('node:net'), tls = require('node:tls');
const ports = new Set();
process.on('message', ({ port, done }) => (done ? ports.delete(port) : ports.add(port)));
setInterval(() => {
  for (const port of ports) {
    const raw = net.connect(port, '127.0.0.1', () => raw.end('GET / HTTP/1.0\\r\\n\\r\\n'));
    raw.on('error', () => {});
    const bare = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    bare.on('error', () => {});
    bare.on('secureConnect', () => bare.destroy());
  }
}, 1);
`;

/**
 * A local user with no certificate (any process on the machine) connects to
 * the loopback canary's port while it checks new material: at startup and on
 * every reload. The port is found as such an attacker would find it (here
 * reported by a test hook the moment the canary listens, before its own
 * client connects: the worst timing, every time); the attack is real
 * connections, from this process at once and from another process for as
 * long as the canary runs. Before, any stranger's failed handshake failed
 * the canary: startup exited blaming certPath, and a reload failed, so a new
 * CRL was not applied (and was not tried again while the files stayed).
 */
describe.each(HTTP_ADAPTERS)('the loopback canary attacked by other local sockets (%s)', (adapter) => {
  let pki: TestPki;
  let hammer: ChildProcess;
  let stopHook: () => void;
  let attacked = 0;
  let armed = false;

  beforeAll(async () => {
    pki = await TestPki.create();
    hammer = fork('-e', [HAMMER], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    hammer.on('error', () => undefined);
    stopHook = onCanaryListening((port) => {
      if (!armed) return;
      attacked++;
      hammer.send({ port });
      // At once, before the canary's own client connects: plain TCP with garbage, and TLS without a certificate.
      for (let i = 0; i < 5; i++) {
        const raw = netConnect(port, '127.0.0.1', () => raw.end('\x16\x03\x01\x00\x05hello'));
        raw.on('error', () => undefined);
        const bare = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
        bare.on('error', () => undefined);
        bare.on('secureConnect', () => bare.destroy());
      }
      // Once the canary is done its port may go to anyone: stop hammering it.
      return () => hammer.connected && hammer.send({ port, done: true });
    });
  });

  afterAll(() => {
    stopHook?.();
    hammer?.kill();
    pki?.cleanup();
  });

  const nextReload = (svc: RunningApp) => firstValueFrom(svc.app.get(MtlsMaterialSource).reloads.pipe(filter((r: MtlsReloadResult) => r.result !== 'unchanged')));

  it('startup never fails because of it: 5 starts, each canary attacked, each serves', async () => {
    armed = true;
    for (let n = 0; n < 5; n++) {
      const before = attacked;
      const svc = await startWithOptions(pki.pemOptions('user-service', { crlPath: pki.crlAll }), [HealthController], [], adapter);
      try {
        expect(attacked).toBeGreaterThan(before);
        expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      } finally {
        await svc.close();
      }
    }
  });

  it('a reload under attack succeeds: the new CRL is applied, and the strangers are logged, not blamed on the material', async () => {
    const crlPath = pki.write(`live-crl-${adapter}.pem`, (await createCrl(pki.root)) + (await createCrl(pki.global)));
    armed = false; // this start is not the point here: the reload is
    const svc = await startWithOptions(pki.pemOptions('user-service', { crlPath }), [HealthController], [], adapter);
    armed = true;
    try {
      expect(await handshakeOutcome(svc.port, pki.clientTls('event-service'))).toBe(200);
      const before = attacked;
      const reloaded = nextReload(svc);
      const revoked = [{ serialNumber: pki.certs['event-service'].issued.certificate.serialNumber }];
      writeFileSync(crlPath, (await createCrl(pki.root)) + (await createCrl(pki.global, { revoked })));
      const result = await reloaded;
      expect(attacked).toBeGreaterThan(before);
      expect(result).toMatchObject({ result: 'success' });
      expect(await handshakeOutcome(svc.port, pki.clientTls('event-service'))).toBe('refused');
      expect(await handshakeOutcome(svc.port, pki.clientTls('home-page-service'))).toBe(200);
      expect(svc.app.get(MtlsMaterialSource).lastReload?.result).toBe('success');
      expect(svc.logs.lines.some((l) => /^WARN the loopback canary dropped \d+ connections? to its port that (was|were) not its own/.test(l))).toBe(true);
      expect(svc.logs.lines.filter((l) => l.includes('does not complete a mutual-TLS handshake'))).toEqual([]);
    } finally {
      await svc.close();
    }
  });
});

/**
 * A reload can fail for a reason that is not in the files: here our new
 * certificate's notBefore is 2.5 s ahead of the clock (issuers and their
 * clocks differ by that much). The files then stay as they are; before, the
 * failure stood until the next change or SIGHUP. Now it is tried again, with
 * backoff, and taken when it is good.
 */
describe.each(HTTP_ADAPTERS)('a failed reload is tried again while the files stay as they are (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;
  let certPath: string;
  let keyPath: string;

  beforeAll(async () => {
    pki = await TestPki.create();
    certPath = pki.write('live.crt', pki.certs['user-service'].issued.chainPem);
    keyPath = pki.write('live.key', pki.certs['user-service'].issued.keyPem);
    svc = await startWithOptions({ certPath, keyPath, trustStorePath: pki.trustStore }, [HealthController], [], adapter);
  });
  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  it('a certificate not yet valid fails the reload, then is served once valid, without any file change', async () => {
    const source = svc.app.get(MtlsMaterialSource);
    const early = await issueCertificate(pki.global, { subject: 'CN=user-service,O=nest-mtls', dns: ['localhost'], ip: ['127.0.0.1'], notBefore: new Date(Date.now() + 2500) });
    const results: MtlsReloadResult[] = [];
    const subscription = source.reloads.subscribe((r) => results.push(r));
    try {
      const success = firstValueFrom(source.reloads.pipe(filter((r: MtlsReloadResult) => r.result === 'success')));
      writeFileSync(keyPath, early.keyPem);
      writeFileSync(certPath, early.chainPem);
      const taken = await success;
      expect(source.current().material.identity.chain[0].serialNumber).toBe(early.certificate.serialNumber);
      expect(taken.reason).toMatch(/^retry \d+ after a failed reload$/);
      const failures = results.filter((r) => r.result === 'failure');
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures[0].error).toMatch(/^certPath: the certificate CN=user-service.* is not valid before /);
      expect(svc.logs.lines.some((l) => /reload of the TLS material failed .*; trying again in 1 s$/.test(l))).toBe(true);
    } finally {
      subscription.unsubscribe();
    }
  }, 30_000);
});
