/** The channel the SET table's trigger (migration 1795450000000) sends new SETs' stream ids to. */
export const SETS_CHANNEL = 'revgw_sets';

type Listener = (streamIds: readonly string[] | 'all') => void;

/**
 * Tells who waits for SETs that some may have come: the push worker's pumps and the polls
 * waiting for a first SET (docs/api.md §12.5). On a database server, what is heard on its
 * `revgw_sets` channel names the streams, whichever replica wrote them; while nothing is heard
 * (the listening connection lost), a wait lasts at most FALLBACK_CHECK_MS, so what other replicas
 * write is still found, and this process's own writes wake everyone at once. On the embedded
 * database this process is the only writer: its own writes are all there is to hear.
 */
export class SetSignal {
  /** docs/api.md §12.5: how often a waiting poll looks again while nothing is heard from the database. */
  static readonly FALLBACK_CHECK_MS = 1000;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<Listener>();
  private hearing: boolean;

  /** `alone`: the embedded database, which no other process writes. */
  constructor(private readonly alone: boolean) {
    this.hearing = alone;
  }

  /** This process committed SETs (of streams it does not name): wakes everyone unless the database will say which. */
  committed(): void {
    if (this.alone || !this.hearing) this.wake('all');
  }

  /** `payload`: the trigger's comma-separated stream ids. */
  heard(payload: string): void {
    this.wake(payload.split(',').filter((id) => id.length > 0));
  }

  /** The listening connection is up (or down again); coming up, what was missed meanwhile is looked for. */
  listening(up: boolean): void {
    if (this.alone) return;
    this.hearing = up;
    if (up) this.wake('all');
  }

  wake(streamIds: readonly string[] | 'all'): void {
    for (const listener of this.listeners) listener(streamIds);
    if (streamIds === 'all') {
      for (const stream of this.waiters.values()) for (const resolve of stream) resolve();
      return;
    }
    for (const id of streamIds) for (const resolve of this.waiters.get(id) ?? []) resolve();
  }

  onWake(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the stream may have new SETs, or after `ms` (at most FALLBACK_CHECK_MS while not hearing). */
  waitFor(streamId: string, ms: number): Promise<void> {
    const bound = this.hearing ? ms : Math.min(ms, SetSignal.FALLBACK_CHECK_MS);
    return new Promise((resolve) => {
      const stream = this.waiters.get(streamId) ?? new Set();
      this.waiters.set(streamId, stream);
      const done = () => {
        clearTimeout(timer);
        stream.delete(done);
        if (stream.size === 0 && this.waiters.get(streamId) === stream) this.waiters.delete(streamId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, bound));
      stream.add(done);
    });
  }
}
