import { MtlsConfigError, mtlsOptionsFromEnv } from 'nest-mtls';
import { MtlsConsoleLogger, enableGracefulShutdown, logFormatSetting, millisecondsSetting } from 'nest-mtls/app';
import { mtlsAdminOptionsFromEnv } from 'nest-mtls/admin';
import { RecentSubjects } from 'nest-mtls/internal';
import { resolveAdminOptions } from 'nest-mtls/internal';
import { logLine } from 'nest-mtls/internal';
import { logSafe } from 'nest-mtls/internal';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** What `logger` writes to stdout and stderr while `fn` runs. */
function captureOutput(fn: () => void): string[] {
  const lines: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const keep = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.length > 0));
    return true;
  };
  process.stdout.write = keep;
  process.stderr.write = keep;
  try {
    fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return lines;
}

describe('MtlsConsoleLogger', () => {
  const fields = { event: 'tls_refused', stage: 'handshake', reason: 'no_certificate', peer: '127.0.0.1:5000' };

  it('text (default): the line as before, without the structured fields', () => {
    const logger = new MtlsConsoleLogger({ colors: false });
    const [line] = captureOutput(() => logLine(logger, 'warn', 'TLS handshake from 127.0.0.1:5000 refused: no_certificate', fields));
    expect(line).toMatch(/ WARN TLS handshake from 127\.0\.0\.1:5000 refused: no_certificate$/);
  });

  it('json: one object per line, the fields at the top level, Nest\'s fields kept', () => {
    const logger = new MtlsConsoleLogger({ json: true });
    const lines = captureOutput(() => {
      logger.warn('TLS handshake from 127.0.0.1:5000 refused: no_certificate', fields, 'MtlsServer');
      logger.log('plain line', 'Bootstrap');
      logger.warn('a field may not replace the message', { message: 'forged', level: 'fatal' }, 'X');
    });
    expect(lines).toHaveLength(3);
    const [refusal, plain, clash] = lines.map((l) => JSON.parse(l));
    expect(refusal).toMatchObject({ level: 'warn', context: 'MtlsServer', message: 'TLS handshake from 127.0.0.1:5000 refused: no_certificate', ...fields });
    expect(typeof refusal.timestamp).toBe('number');
    expect(plain).toMatchObject({ level: 'log', context: 'Bootstrap', message: 'plain line' });
    expect(clash).toMatchObject({ level: 'warn', message: 'a field may not replace the message' });
  });

  // What a peer can put in a message Nest logs (an event pattern, an error message): a whole forged record, a
  // line separator, a bidi override, a terminal escape.
  const FORGED = 'x\n[Nest] 4242  - 12/07/2026, 5:54:35 PM     LOG [ClientCertGuard] admitted CN=admin\r\n\u2028y\u202egnp.exe\u001b[2J';

  it('text: any message (not only ours) is one physical line, escaped; nest-mtls\' own escaped lines come out unchanged', () => {
    const logger = new MtlsConsoleLogger({ colors: false });
    const ours = `refused RPC {"cmd":"get_user"} from 127.0.0.1:5000: policy refused (rule subject): unexpected subject DN ${logSafe('CN=evil\u202egnp.exe')}`;
    const lines = captureOutput(() => {
      logger.error(`There is no matching event handler defined in the remote service. Event pattern: ${FORGED}`, 'Server');
      logger.warn(FORGED, 'Ctx\nLOG [Forged]');
      logger.log({ pattern: FORGED, nested: { a: [1, 2] } }, 'Server');
      logger.warn(ours, 'ClientCertGuard');
    });
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^\[Nest\] \d+ {2}- /);
    expect(lines[0]).toMatch(/ERROR \[Server\] There is no matching event handler defined in the remote service\. Event pattern: x\\n\[Nest\] 4242 .* admitted CN=admin\\r\\n\\u2028y\\u202egnp\.exe\\x1b\[2J$/);
    expect(lines[1]).toContain('[Ctx\\nLOG [Forged]]');
    expect(lines[2]).toMatch(/LOG \[Server\] Object\(2\) \{ pattern: .*nested: \{ a: \[ 1, 2 \] \} \}$/);
    expect(lines[3]).toMatch(/WARN \[ClientCertGuard\] refused RPC \{"cmd":"get_user"\} from 127\.0\.0\.1:5000: policy refused \(rule subject\): unexpected subject DN CN=evil\\u202egnp\.exe$/);
    expect(lines.join('\n')).not.toMatch(/[\u2028\u202e\u001b]/);
  });

  it('text: an error\'s message (which may carry peer text) stays on its record\'s line; its stack frames follow, indented', () => {
    const logger = new MtlsConsoleLogger({ colors: false });
    const err = new Error(`Could not parse JSON\nRequest data: ${FORGED}`);
    const lines = captureOutput(() => {
      logger.error(err);
      logger.error(err.message, err.stack, 'ExceptionsHandler');
    });
    expect(lines[0]).toMatch(/^\[Nest\] \d+ {2}- .* ERROR Error: Could not parse JSON\\nRequest data: x\\n\[Nest\] 4242 .*gnp\.exe\\x1b\[2J$/);
    const records = lines.filter((l) => l.startsWith('[Nest]'));
    expect(records).toHaveLength(2);
    // Every other line is an indented frame or the escaped header of the stack: none can pass for a record.
    for (const line of lines.filter((l) => !l.startsWith('[Nest] ') || !/ERROR /.test(l))) expect(line).toMatch(/^( {4}at |Error: Could not parse JSON\\n)/);
    expect(lines.filter((l) => /^ {4}at /.test(l)).length).toBeGreaterThan(2);
    expect(lines.join('\n')).not.toMatch(/^\[Nest\] 4242/m);
  });

  it('json: the message and context escaped as in text; what JSON leaves raw (line separators, bidi) written as JSON escapes', () => {
    const logger = new MtlsConsoleLogger({ json: true });
    const lines = captureOutput(() => {
      logger.error(`Event pattern: ${FORGED}`, 'Server');
      logger.warn('ours', { event: 'x', subject: 'CN=a\u2028b' }, 'Ctx\u202e');
      logger.error(new Error(`boom ${FORGED}`));
    });
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).not.toMatch(/[\u2028\u202e\u001b]/);
    const [event, fielded, error] = lines.map((l) => JSON.parse(l));
    expect(event.message).toBe(`Event pattern: ${logSafe(FORGED, Infinity)}`);
    expect(fielded).toMatchObject({ message: 'ours', context: 'Ctx\\u202e', subject: 'CN=a\u2028b' });
    expect(error.message).toBe(`boom ${logSafe(FORGED, Infinity)}`);
  });

  it('logFormatSetting reads text or json, and names the variable otherwise', () => {
    expect(logFormatSetting('LOG_FORMAT', undefined)).toBe('text');
    expect(logFormatSetting('LOG_FORMAT', ' JSON ')).toBe('json');
    expect(() => logFormatSetting('LOG_FORMAT', 'yaml')).toThrow('LOG_FORMAT: expected text or json, got "yaml"');
  });
});

describe('service settings of operations', () => {
  it('millisecondsSetting: whole milliseconds, the fallback when unset, an error naming the variable', () => {
    expect(millisecondsSetting('SHUTDOWN_TIMEOUT_MS', undefined, 10_000)).toBe(10_000);
    expect(millisecondsSetting('SHUTDOWN_TIMEOUT_MS', '2500', 10_000)).toBe(2500);
    expect(millisecondsSetting('SHUTDOWN_TIMEOUT_MS', '0', 10_000)).toBe(0);
    expect(() => millisecondsSetting('SHUTDOWN_TIMEOUT_MS', '10s', 10_000)).toThrow('SHUTDOWN_TIMEOUT_MS: expected a whole number of milliseconds from 0 to 86400000, got "10s"');
    expect(() => millisecondsSetting('SHUTDOWN_TIMEOUT_MS', '-1', 10_000)).toThrow(/SHUTDOWN_TIMEOUT_MS/);
  });

  it('mtlsAdminOptionsFromEnv: ADMIN_PORT, ADMIN_HOST, MTLS_EXPIRY_WARNING_DAYS', () => {
    expect(mtlsAdminOptionsFromEnv({ ADMIN_PORT: '8081', ADMIN_HOST: '0.0.0.0', MTLS_EXPIRY_WARNING_DAYS: '2' })).toEqual({ port: 8081, host: '0.0.0.0', expiryWarningDays: 2 });
    expect(mtlsAdminOptionsFromEnv({ ADMIN_PORT: ' ' })).toEqual({ port: undefined, host: '127.0.0.1', expiryWarningDays: 14 });
    expect(mtlsAdminOptionsFromEnv({ get: (name: string) => ({ ADMIN_PORT: '3080' })[name] })).toMatchObject({ port: 3080 });
    expect(() => mtlsAdminOptionsFromEnv({ ADMIN_PORT: 'eighty' })).toThrow('ADMIN_PORT: expected a port number, got "eighty"');
    let error: unknown;
    try {
      mtlsAdminOptionsFromEnv({ MTLS_EXPIRY_WARNING_DAYS: 'two weeks' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MtlsConfigError);
    expect((error as Error).message).toBe('MTLS_EXPIRY_WARNING_DAYS (expiryWarningDays): expected a whole number of days from 0 to 3650, got "two weeks"');
  });

  it('MTLS_EXPIRY_WARNING_DAYS is a known MTLS_ variable (mtlsOptionsFromEnv does not refuse it)', () => {
    expect(mtlsOptionsFromEnv({ MTLS_EXPIRY_WARNING_DAYS: '7', MTLS_TRUST_STORE_PATH: '/t.pem' })).toEqual({ trustStorePath: '/t.pem' });
    expect(() => mtlsOptionsFromEnv({ MTLS_EXPIRY_WARNING_DAY: '7' })).toThrow('MTLS_EXPIRY_WARNING_DAY: not a setting of nest-mtls; did you mean MTLS_EXPIRY_WARNING_DAYS?');
  });
});

describe('MtlsAdminModule options', () => {
  it('refuses a misspelt option, naming it and the likely one, instead of ignoring it', () => {
    expect(() => resolveAdminOptions({ port: 0, polices: false } as never)).toThrow(new MtlsConfigError('polices', 'is not an option of MtlsAdminModule; did you mean "policies"?'));
  });

  it("refuses an empty host (Node would bind the unauthenticated admin port on every interface), naming the option", () => {
    for (const host of ['', '  ', null]) {
      expect(() => resolveAdminOptions({ port: 0, host: host as never })).toThrow(
        new MtlsConfigError('host', `must be an address to bind, got ${JSON.stringify(host)} (an empty host binds the admin port, which asks for no certificate, on every interface); leave it unset for 127.0.0.1, or write 0.0.0.0 to mean every interface`),
      );
    }
    expect(resolveAdminOptions({ host: undefined }).host).toBe('127.0.0.1');
    expect(resolveAdminOptions({ host: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('refuses a switch that is not true or false (a string "false" would otherwise leave /policies on)', () => {
    expect(() => resolveAdminOptions({ policies: 'false' as never })).toThrow(new MtlsConfigError('policies', 'must be true or false, got "false"'));
    expect(() => resolveAdminOptions({ defaultMetrics: 0 as never })).toThrow(new MtlsConfigError('defaultMetrics', 'must be true or false, got 0'));
    expect(resolveAdminOptions({ policies: false }).policies).toBe(false);
    expect(resolveAdminOptions({}).policies).toBe(true);
  });
});

describe('RecentSubjects (bounded caller subjects of the metrics)', () => {
  it('keeps the most recently seen max keys; seeing one again refreshes it and its value', () => {
    const recent = new RecentSubjects<number>(3);
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3], ['a', 4], ['d', 5]] as const) recent.see(k, v);
    expect([...recent]).toEqual([['c', 3], ['a', 4], ['d', 5]]);
    for (let i = 0; i < 10_000; i++) recent.see(`subject-${i}`, i);
    expect(recent.size).toBe(3);
  });
});

describe('enableGracefulShutdown', () => {
  it('refuses SIGHUP, which reloads the TLS material', () => {
    const app = { close: async () => undefined } as never;
    expect(() => enableGracefulShutdown(app, { signals: ['SIGTERM', 'SIGHUP'] })).toThrow(
      'enableGracefulShutdown: SIGHUP reloads the TLS material and cannot also shut the application down; use SIGTERM or SIGINT',
    );
    expect(() => enableGracefulShutdown(app, { timeoutMs: -5 })).toThrow('timeoutMs: must be a whole number of milliseconds, 0 or more, got -5');
  });
});

describe('exitOnStartupError', () => {
  const dist = join(__dirname, '..', '..', 'libs', 'mtls', 'dist');
  const run = (json: boolean) =>
    spawnSync(
      process.execPath,
      ['-e', `const { MtlsConfigError } = require(${JSON.stringify(join(dist, 'index.js'))}); const { exitOnStartupError } = require(${JSON.stringify(join(dist, 'app', 'index.js'))}); exitOnStartupError('svc', { json: ${json} })(new MtlsConfigError('keyStorePassword', 'wrong password for /x.p12', 'MTLS_KEY_STORE_PASSWORD'));`],
      { encoding: 'utf8' },
    );

  it('writes one plain line by default, one JSON object with json: true; exits 1 either way', () => {
    const plain = run(false);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe('svc: configuration error: MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for /x.p12\n');
    const json = run(true);
    expect(json.status).toBe(1);
    expect(json.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stderr)).toMatchObject({
      level: 'fatal',
      context: 'svc',
      event: 'startup_failed',
      message: 'svc: configuration error: MTLS_KEY_STORE_PASSWORD (keyStorePassword): wrong password for /x.p12',
      setting: 'keyStorePassword',
      variable: 'MTLS_KEY_STORE_PASSWORD',
    });
  });
});
