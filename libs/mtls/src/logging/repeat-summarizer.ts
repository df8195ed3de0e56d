/** How long repeats of one log line are counted before they are summarised. */
export const REPEAT_WINDOW_MS = 10_000;
/** Default number of kinds tracked at a time, over every peer. */
export const MAX_TRACKED_KINDS = 1000;
/** Default number of kinds tracked at a time for one peer. */
export const MAX_KINDS_PER_PEER = 16;

/** Structured fields of a log line (for JSON logs); never key material, passwords or policies. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Writes one log line, with its fields when it has any. */
export type LineWriter = (line: string, fields?: LogFields) => void;

/** Whose line it is, for fairness, and whether it may ever be held back. */
export interface ReportScope {
  /**
   * The peer the line is about (a peer host, or a host and the subject it
   * presented), already safe for the log: it names the peer in its summary.
   * A peer's kinds are capped on their own; one peer never takes another's
   * place. Lines without a peer share one group, capped by the total only.
   */
  peer?: string;
  /** Written even when its peer is over its caps (a revoked certificate's refusal): never only counted. */
  always?: boolean;
}

interface Window {
  repeats: number;
  summary: (repeats: number) => string;
  fields?: LogFields;
  timer: NodeJS.Timeout;
}

/** One peer's open windows: one per kind, and one counting its kinds past its cap. */
interface Peer {
  readonly name: string;
  readonly kinds: Map<string, Window>;
  overflow?: Window;
}

/**
 * Keeps floods out of the log without letting one peer blind it for others.
 *
 * The first line of a kind (its `key`, e.g. peer host + reason) is written at
 * once; repeats within the window are only counted, and when the window closes
 * one line says how many there were ("... and 312 more in the last 10 s").
 *
 * Fairness, with memory bounded however many peers flood: each peer (the
 * `peer` of {@link ReportScope}) has at most `maxKindsPerPeer` kinds open;
 * past that, its new kinds are counted in one line of its own ("37 more of
 * other kinds from 127.0.0.5 in the last 10 s"). At most `maxKinds` windows
 * are open in all; when they are, a peer holding fewer than the heaviest peer
 * takes the heaviest peer's oldest window (whose repeats are then counted in
 * one line for all such windows), while a peer already among the heaviest
 * only loses lines of its own. So a peer that floods with a thousand
 * addresses or a thousand URLs cannot keep another peer's first line out of
 * the log, and a line marked `always` (a revoked certificate) is written in
 * every case. A line may carry structured fields (JSON logs); its summary
 * carries the same ones plus `repeats`.
 */
export class RepeatSummarizer {
  private readonly peers = new Map<string, Peer>();
  /** Peers by how many windows they hold (kinds + overflow), to find the heaviest at once. */
  private readonly byWeight: Set<Peer>[] = [];
  private open = 0;
  /** Repeats of windows given up to make room for lighter peers: one line per window. */
  private evicted?: Window;

  constructor(
    private readonly write: LineWriter,
    private readonly windowMs = REPEAT_WINDOW_MS,
    private readonly maxKinds = MAX_TRACKED_KINDS,
    private readonly maxKindsPerPeer = MAX_KINDS_PER_PEER,
  ) {}

  /**
   * Writes `line()` unless a line of this `key` (for this peer) was written
   * within the window; `summary(n)` is the line written when the window
   * closes with n repeats. `fields` go with the line; `summaryFields`
   * (default `fields`) with the summary, plus `repeats`.
   */
  report(
    key: string,
    line: () => string,
    summary: (repeats: number, seconds: number) => string,
    fields?: LogFields,
    summaryFields: LogFields | undefined = fields,
    scope: ReportScope = {},
  ): void {
    const name = scope.peer ?? '';
    const peer = this.peers.get(name);
    const open = peer?.kinds.get(key);
    if (open) {
      open.repeats++;
      return;
    }
    // A line marked `always` is not held to its peer's cap; it still needs room among all, else it is written untracked.
    const capped = scope.peer !== undefined && !scope.always && (peer?.kinds.size ?? 0) >= this.maxKindsPerPeer;
    if (capped || !this.makeRoomFor(peer)) {
      if (scope.always) this.write(line(), fields);
      else this.countOverflow(name);
      return;
    }
    this.write(line(), fields);
    const owner = peer ?? this.addPeer(name);
    const window = this.openWindow(
      (repeats) => summary(repeats, this.windowMs / 1000),
      () => this.closeKind(owner, key),
      summaryFields,
    );
    this.reweigh(owner, () => owner.kinds.set(key, window));
  }

  /** How many windows are open now (never more than `maxKinds`, plus one counting evicted ones). */
  get tracked(): number {
    return this.open + (this.evicted ? 1 : 0);
  }

  /** Writes the pending summaries now (e.g. at shutdown) and forgets every window. */
  flush(): void {
    for (const peer of [...this.peers.values()]) {
      for (const key of [...peer.kinds.keys()]) {
        const window = peer.kinds.get(key)!;
        clearTimeout(window.timer);
        this.closeKind(peer, key);
      }
      if (peer.overflow) {
        clearTimeout(peer.overflow.timer);
        this.closeOverflow(peer);
      }
    }
    if (this.evicted) {
      clearTimeout(this.evicted.timer);
      this.writeSummary(this.evicted);
      this.evicted = undefined;
    }
  }

  /** A new kind of `name` past its cap (or with no room for it): counted in the peer's own overflow line. */
  private countOverflow(name: string): void {
    const peer = this.peers.get(name) ?? this.addPeer(name);
    if (peer.overflow) {
      peer.overflow.repeats++;
      return;
    }
    let repeats = 1;
    if (!this.makeRoomFor(peer)) {
      // The table is full and this peer is among the heaviest: its oldest kind makes way for its overflow line.
      const [oldestKey, oldest] = peer.kinds.entries().next().value as [string, Window];
      clearTimeout(oldest.timer);
      repeats += oldest.repeats;
      this.reweigh(peer, () => peer.kinds.delete(oldestKey));
      this.open--;
    }
    const label = name === '' ? '' : ` from ${name}`;
    const window = this.openWindow(
      (n) => `${n} more of other kinds${label} in the last ${this.windowMs / 1000} s`,
      () => this.closeOverflow(peer),
      name === '' ? { event: 'repeats_of_other_kinds' } : { event: 'repeats_of_other_kinds', peer: name },
    );
    window.repeats = repeats;
    this.reweigh(peer, () => (peer.overflow = window));
  }

  /**
   * True when a window may be opened for `peer`: there is room, or `peer`
   * holds fewer windows than the heaviest peer, whose oldest window is then
   * given up (its repeats counted in the one line for such windows).
   */
  private makeRoomFor(peer: Peer | undefined): boolean {
    if (this.open < this.maxKinds) return true;
    const heaviest = this.heaviest();
    if (!heaviest || weightOf(peer) >= weightOf(heaviest)) return false;
    const first = heaviest.kinds.entries().next();
    let repeats: number;
    if (!first.done) {
      const [key, window] = first.value;
      clearTimeout(window.timer);
      repeats = window.repeats;
      this.reweigh(heaviest, () => heaviest.kinds.delete(key));
    } else {
      const overflow = heaviest.overflow!;
      clearTimeout(overflow.timer);
      repeats = overflow.repeats;
      this.reweigh(heaviest, () => (heaviest.overflow = undefined));
    }
    this.open--;
    this.forgetIfEmpty(heaviest);
    if (repeats > 0) {
      this.evicted ??= this.openWindow(
        (n) => `${n} more lines of peers past the ${this.maxKinds} kinds tracked, in the last ${this.windowMs / 1000} s`,
        () => (this.evicted = undefined),
        { event: 'repeats_of_other_kinds' },
        false,
      );
      this.evicted.repeats += repeats;
    }
    return true;
  }

  private heaviest(): Peer | undefined {
    for (let weight = this.byWeight.length - 1; weight > 0; weight--) {
      const peers = this.byWeight[weight];
      if (peers && peers.size > 0) return peers.values().next().value;
    }
    return undefined;
  }

  private addPeer(name: string): Peer {
    const peer: Peer = { name, kinds: new Map() };
    this.peers.set(name, peer);
    return peer;
  }

  /** Applies `change` to `peer`'s windows, keeping its place among the weights. */
  private reweigh(peer: Peer, change: () => void): void {
    const before = weightOf(peer);
    change();
    const after = weightOf(peer);
    if (before === after) return;
    this.byWeight[before]?.delete(peer);
    (this.byWeight[after] ??= new Set()).add(peer);
  }

  private closeKind(peer: Peer, key: string): void {
    const window = peer.kinds.get(key);
    if (!window) return;
    this.reweigh(peer, () => peer.kinds.delete(key));
    this.open--;
    this.forgetIfEmpty(peer);
    this.writeSummary(window);
  }

  private closeOverflow(peer: Peer): void {
    const window = peer.overflow;
    if (!window) return;
    this.reweigh(peer, () => (peer.overflow = undefined));
    this.open--;
    this.forgetIfEmpty(peer);
    this.writeSummary(window);
  }

  private forgetIfEmpty(peer: Peer): void {
    if (peer.kinds.size > 0 || peer.overflow) return;
    this.byWeight[0]?.delete(peer);
    if (this.peers.get(peer.name) === peer) this.peers.delete(peer.name);
  }

  /** A window of `windowMs` that calls `close` when it ends, counted among the open ones unless `counted` is false. */
  private openWindow(summary: (repeats: number) => string, close: () => void, fields?: LogFields, counted = true): Window {
    const window: Window = {
      repeats: 0,
      summary,
      fields,
      timer: setTimeout(() => {
        if (!counted) this.writeSummary(window);
        close();
      }, this.windowMs),
    };
    window.timer.unref();
    if (counted) this.open++;
    return window;
  }

  private writeSummary(window: Window): void {
    if (window.repeats > 0) this.write(window.summary(window.repeats), window.fields ? { ...window.fields, repeats: window.repeats } : { repeats: window.repeats });
  }
}

function weightOf(peer: Peer | undefined): number {
  return peer ? peer.kinds.size + (peer.overflow ? 1 : 0) : 0;
}
