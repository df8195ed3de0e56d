import { SharedFetches } from 'nest-mtls/internal';

/** A download that ends when the test says so, or when its signal aborts. */
function pending() {
  const started: AbortSignal[] = [];
  let finish!: (value: string) => void;
  const start = (signal: AbortSignal) => {
    started.push(signal);
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  };
  return { started, start, finish: (v: string) => finish(v) };
}

describe('SharedFetches: one download per key, abandoned when everyone who asked has gone', () => {
  it('shares one download among concurrent callers', async () => {
    const fetches = new SharedFetches<string, string>();
    const d = pending();
    const a = fetches.run('k', d.start);
    const b = fetches.run('k', d.start);
    expect(d.started).toHaveLength(1);
    expect(fetches.has('k')).toBe(true);
    d.finish('crl');
    await expect(Promise.all([a, b])).resolves.toEqual(['crl', 'crl']);
    expect(fetches.has('k')).toBe(false);
  });

  it('goes on while one caller still waits, and aborts when the last one leaves', async () => {
    const fetches = new SharedFetches<string, string>();
    const d = pending();
    const first = new AbortController();
    const second = new AbortController();
    const result = fetches.run('k', d.start, () => first.signal);
    void fetches.run('k', d.start, () => second.signal).catch(() => undefined);
    first.abort();
    expect(d.started[0].aborted).toBe(false);
    second.abort();
    expect(d.started[0].aborted).toBe(true);
    await expect(result).rejects.toThrow('aborted');
    expect(fetches.has('k')).toBe(false);
  });

  it('is never abandoned once someone asked without a signal (a background refresh, a prefetch)', () => {
    const fetches = new SharedFetches<string, string>();
    const d = pending();
    const caller = new AbortController();
    void fetches.run('k', d.start, () => caller.signal).catch(() => undefined);
    void fetches.run('k', d.start);
    caller.abort();
    expect(d.started[0].aborted).toBe(false);
    d.finish('done');
  });

  it('a caller that has already gone does not keep a new download alive', () => {
    const fetches = new SharedFetches<string, string>();
    const d = pending();
    const gone = new AbortController();
    gone.abort();
    void fetches.run('k', d.start, () => gone.signal).catch(() => undefined);
    expect(d.started[0].aborted).toBe(true);
  });

  it('a caller leaving after the download ended aborts nothing, not even the next download of the key', async () => {
    const fetches = new SharedFetches<string, string>();
    const d1 = pending();
    const caller = new AbortController();
    const first = fetches.run('k', d1.start, () => caller.signal);
    d1.finish('one');
    await first;
    const d2 = pending();
    void fetches.run('k', d2.start).catch(() => undefined);
    caller.abort();
    expect(d2.started[0].aborted).toBe(false);
    d2.finish('two');
  });
});
