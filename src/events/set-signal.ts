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
    this.wake(payload === 'all' ? 'all' : payload.split(',').filter((id) => id.length > 0));
  }

  /** The listening connection is up, or lost: either way everyone looks again (what was missed; waits bounded anew). */
  listening(up: boolean): void {
    if (this.alone) return;
    this.hearing = up;
    this.wake('all');
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

  /**
   * Starts listening for the stream's SETs now, before the caller looks for them, so that none
   * committed between its look and its wait goes unheard. `wait` resolves when the stream may have
   * new SETs (heard since arming), or after `ms` — at most FALLBACK_CHECK_MS while not hearing.
   * `cancel` when done.
   */
  arm(streamId: string): { wait(ms: number): Promise<void>; cancel(): void } {
    let woken = false;
    let resolveWait: (() => void) | undefined;
    const stream = this.waiters.get(streamId) ?? new Set();
    this.waiters.set(streamId, stream);
    const wake = () => {
      woken = true;
      resolveWait?.();
    };
    stream.add(wake);
    const cancel = () => {
      stream.delete(wake);
      if (stream.size === 0 && this.waiters.get(streamId) === stream) this.waiters.delete(streamId);
    };
    const wait = (ms: number) =>
      woken
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, this.hearing ? ms : Math.min(ms, SetSignal.FALLBACK_CHECK_MS)));
            resolveWait = () => {
              clearTimeout(timer);
              resolve();
            };
          });
    return { wait, cancel };
  }
}
