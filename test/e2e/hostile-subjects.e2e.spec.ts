import { Controller, Get } from '@nestjs/common';
import { RequireClientCert } from 'nest-mtls';
import { resignedWithSubject } from '../support/crafted-certificate';
import { nameDer, tlv, utf8 } from '../support/der';
import { HTTP_ADAPTERS, startWithOptions, type RunningApp } from '../support/start-app';
import { TestPki } from '../support/test-pki';
import { httpsGet } from '../support/tls-probe';

@Controller('users')
@RequireClientCert(/^CN=home-page-service(,|$)/)
class GuardedController {
  @Get('1')
  user() {
    return { id: 1 };
  }
}

/**
 * Certificates our CA signed (so the handshake verifies them) whose subjects
 * are hostile: names the DN formatter cannot print, and names made to forge
 * or hide log lines. The caller gets the article's answers; the log gets one
 * escaped, bounded line that says what happened.
 */
describe.each(HTTP_ADAPTERS)('hostile subjects in verified certificates (%s)', (adapter) => {
  let pki: TestPki;
  let svc: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    svc = await startWithOptions(pki.pemOptions('user-service'), [GuardedController], [], adapter);
  });

  afterAll(async () => {
    await svc?.close();
    pki?.cleanup();
  });

  /** TLS options presenting home-page-service's key with a certificate re-signed by our global CA under `subject`. */
  function presenting(subject: Buffer) {
    const leaf = pki.certs['home-page-service'].issued;
    return { key: leaf.keyPem, cert: resignedWithSubject(leaf, pki.global, subject) + pki.global.certPem, ca: pki.root.certPem };
  }

  const logsSince = (before: number) => svc.logs.lines.slice(before);

  it.each([
    // Until the fuzz tests compared the formatter with OpenSSL, these two were refused as "subject could not be parsed" (asn1js
    // refuses tag 15 and stops at 10,000 nodes), although OpenSSL, which verified the handshake, reads and prints them.
    ['a value with the reserved universal tag 15', nameDer([[['2.5.4.10', utf8('nest-mtls')]], [['2.5.4.3', tlv(0x0f, Buffer.from('home-page-service'))]]]), 'CN=#0F11686F6D652D706167652D73657276696365,O=nest-mtls'],
    [
      'more than 10,000 ASN.1 nodes',
      nameDer([[['2.5.4.3', utf8('home-page-service')]], [['1.2.3.4', tlv(0x30, Buffer.concat(Array.from({ length: 10_001 }, () => tlv(0x05, []))))]]]),
      '1.2.3.4=#30824E2205000500',
    ],
  ])('prints a subject OpenSSL takes as OpenSSL prints it, however odd, and the policy judges that: %s', async (_what, subject, printed) => {
    const before = svc.logs.lines.length;
    const res = await httpsGet(svc.port, '/users/1', presenting(subject));
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    const line = logsSince(before).find((l) => l.includes('403 GET /users/1'));
    expect(line).toContain(`policy refused (rule subject): unexpected subject DN ${printed}`);
  });

  it('escapes bidi overrides and line separators of a CN in the log line', async () => {
    const before = svc.logs.lines.length;
    const subject = nameDer([[['2.5.4.10', utf8('nest-mtls')]], [['2.5.4.3', utf8('evil\u202egnp.exe\u2028WARN forged line\u2029')]]]);
    expect((await httpsGet(svc.port, '/users/1', presenting(subject))).status).toBe(403);
    const line = logsSince(before).find((l) => l.includes('403 GET /users/1')) ?? '';
    expect(line).toContain('CN=evil\\u202egnp.exe\\u2028WARN forged line\\u2029,O=nest-mtls');
    expect(line).not.toMatch(/[\u202e\u2028\u2029\n\r]/);
  });

  it('cuts a 60 KB subject to a bounded field with a marker', async () => {
    const before = svc.logs.lines.length;
    const subject = nameDer([[['2.5.4.3', utf8('home-page-service-but-not-quite')]], [['1.2.3.4', utf8('A'.repeat(60_000))]]]);
    expect((await httpsGet(svc.port, '/users/1', presenting(subject))).status).toBe(403);
    const line = logsSince(before).find((l) => l.includes('403 GET /users/1')) ?? '';
    expect(line).toMatch(/…\[\+\d+ chars\]/);
    expect(line.length).toBeLessThan(1200);
  });
});

describe.each(HTTP_ADAPTERS)('a verified subject the formatter cannot print (%s)', (adapter) => {
  let pki: TestPki;
  let jdk: RunningApp;

  beforeAll(async () => {
    pki = await TestPki.create();
    jdk = await startWithOptions({ ...pki.pemOptions('user-service'), dnFormat: 'jdk' }, [GuardedController], [], adapter);
  });

  afterAll(async () => {
    await jdk?.close();
    pki?.cleanup();
  });

  it('answers "Certificate subject is not recognized!" (not "No certificate chain found!") and says why: the jdk form, a length Java cannot read', async () => {
    const leaf = pki.certs['home-page-service'].issued;
    // OpenSSL takes 04 85 00 00 00 00 01 (a five-octet length) and verifies the handshake; Java's DerIndefLenConverter refuses more than four.
    const subject = nameDer([[['2.5.4.3', Buffer.from('308004850000000001410000', 'hex')]]]);
    const before = jdk.logs.lines.length;
    const res = await httpsGet(jdk.port, '/users/1', { key: leaf.keyPem, cert: resignedWithSubject(leaf, pki.global, subject) + pki.global.certPem, ca: pki.root.certPem });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ statusCode: 403, message: 'Certificate subject is not recognized!' });
    const line = jdk.logs.lines.slice(before).find((l) => l.includes('403 GET /users/1'));
    expect(line).toMatch(/subject could not be parsed: /);
    expect(line).toMatch(/too much data/);
  });
});
