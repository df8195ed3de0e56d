import { MtlsConfigError } from 'nest-mtls';
import { MtlsConsoleLogger } from 'nest-mtls/app';
import { takeStartupError } from 'nest-mtls/internal';

const nextTurn = () => new Promise((r) => setImmediate(r));

/** What MtlsConsoleLogger writes to stderr (Nest's ConsoleLogger writes errors there). */
function capture(): { lines: () => string[]; restore: () => void } {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return { lines: () => written.join('').split('\n').filter(Boolean), restore: () => spy.mockRestore() };
}

describe('MtlsConsoleLogger and a startup error', () => {
  const logger = new MtlsConsoleLogger({ colors: false });

  it('leaves out Nest\'s ExceptionHandler report of an error the bootstrap takes (exitOnStartupError prints it)', async () => {
    const out = capture();
    const err = new MtlsConfigError('keyStorePath', 'file not found: /k.p12');
    logger.error(err, undefined, 'ExceptionHandler');
    takeStartupError(err);
    await nextTurn();
    await nextTurn();
    out.restore();
    expect(out.lines()).toEqual([]);
  });

  it('prints it after all when nobody takes it (a bootstrap without exitOnStartupError)', async () => {
    const out = capture();
    logger.error(new MtlsConfigError('keyStorePath', 'file not found: /k.p12'), undefined, 'ExceptionHandler');
    expect(out.lines()).toEqual([]);
    await nextTurn();
    out.restore();
    expect(out.lines()).toHaveLength(1);
    expect(out.lines()[0]).toMatch(/ERROR \[ExceptionHandler\] .*keyStorePath: file not found: \/k\.p12/);
  });

  it('prints other errors at once', () => {
    const out = capture();
    logger.error('the upstream is down', undefined, 'MtlsHttpClient');
    logger.error(new Error('boom'), undefined, 'SomethingElse');
    out.restore();
    expect(out.lines().filter((l) => l.includes('ERROR'))).toHaveLength(2);
  });
});
