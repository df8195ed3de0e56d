interface Running<T> {
  promise: Promise<T>;
  controller: AbortController;
  /** Callers with a signal still waiting. */
  waiting: number;
  /** Someone asked without a signal (a background refresh, a prefetch): never aborted for lack of callers. */
  kept: boolean;
}

/**
 * Downloads by key (a URL, a certificate), one at a time per key: whoever
 * asks while one runs shares it. A caller may bring a signal (its connection
 * closing); once every caller that asked has gone, and nobody asked without
 * one, the download is aborted: a client that disconnects does not leave the
 * service fetching on its behalf.
 */
export class SharedFetches<K, T> {
  private readonly running = new Map<K, Running<T>>();

  /** Joins the download of `key`, or starts it with `start`. `caller` gives the signal of whoever waits (called only here). */
  run(key: K, start: (signal: AbortSignal) => Promise<T>, caller?: () => AbortSignal): Promise<T> {
    let entry = this.running.get(key);
    if (!entry) {
      const controller = new AbortController();
      const created: Running<T> = { promise: Promise.resolve() as Promise<T>, controller, waiting: 0, kept: false };
      this.running.set(key, created);
      created.promise = start(controller.signal).finally(() => {
        if (this.running.get(key) === created) this.running.delete(key);
      });
      entry = created;
    }
    this.join(key, entry, caller?.());
    return entry.promise;
  }

  /** Whether a download of `key` is running. */
  has(key: K): boolean {
    return this.running.has(key);
  }

  private join(key: K, entry: Running<T>, signal: AbortSignal | undefined): void {
    if (!signal) {
      entry.kept = true;
      return;
    }
    const leave = () => {
      entry.waiting--;
      if (entry.waiting === 0 && !entry.kept && this.running.get(key) === entry) entry.controller.abort();
    };
    entry.waiting++;
    if (signal.aborted) leave();
    else signal.addEventListener('abort', leave, { once: true });
  }
}
