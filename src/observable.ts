/**
 * The store contract shared by the roster and presence stores (nanostores/Svelte, and React's
 * `useSyncExternalStore`): `listen` (changes only), `subscribe` (now, then on change), writes
 * grouped by `batch` (or `defer`, until the current synchronous run ends) so listeners hear once
 * per batch, and a throwing listener reported without stopping the others or the stanza that
 * caused the change.
 */
export class Listeners<S> {
  #listeners = new Set<(snapshot: S) => void>();
  #depth = 0;
  #changed = false;
  #deferred = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastNotifiedAt = Number.NEGATIVE_INFINITY;

  /**
   * After listeners hear of a change, what {@link defer} holds within this many ms waits until
   * the window is up (see `defer`); 0 tells each synchronous run at its end. Set by the store
   * that owns these listeners, before anything is deferred.
   */
  windowMs = 0;

  constructor(
    private readonly getSnapshot: () => S,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  /** Calls `listener` after every change; returns the function that stops it. */
  readonly listen = (listener: (snapshot: S) => void): (() => void) => {
    // A wrapper per call, so the same function can listen twice and be removed once.
    const wrapped = (snapshot: S): void => listener(snapshot);
    this.#listeners.add(wrapped);
    return () => void this.#listeners.delete(wrapped);
  };

  /** Calls `listener` now and after every change; returns the function that stops it. */
  readonly subscribe = (listener: (snapshot: S) => void): (() => void) => {
    const stop = this.listen(listener);
    this.#call(listener, this.getSnapshot());
    return stop;
  };

  /** Records that something changed; listeners hear of it when the outermost batch ends. */
  changed(): void {
    this.#changed = true;
  }

  /** Runs `fn` and notifies listeners once if anything changed. Nested calls notify once. */
  batch<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#end();
    }
  }

  /**
   * {@link batch} without the callback, for per-stanza paths where a closure per call shows
   * in a flood's profile: every `hold()` must be followed by one `release()` (use try/finally).
   */
  hold(): void {
    this.#depth++;
  }

  /** Ends a {@link hold}; notifies if it was the outermost and something changed. */
  release(): void {
    this.#end();
  }

  /**
   * Holds notifications as if everything until then were one {@link batch}: until the current
   * synchronous run of code ends (the next microtask checkpoint), or, when listeners heard of a
   * change less than `windowMs` ago, until that window is up. Writes stay visible at once
   * through `getSnapshot()`; only listeners wait.
   *
   * The run alone is not enough in a browser. On Node, xmpp.js handles all the stanzas of one
   * socket read in one synchronous run, so a flood notifies once per read. A browser dispatches
   * each WebSocket message as a task of its own, with a microtask checkpoint after each: a
   * flood of 10k presence stanzas in Chromium called listeners 9,660 times (bench/results.md).
   * The window bounds that to one call per window (a UI re-renders at most once per frame),
   * while a change after a quiet spell is still told at the end of its run.
   */
  defer(): void {
    if (this.#deferred) return;
    this.#deferred = true;
    this.#depth++;
    const wait = this.#lastNotifiedAt + this.windowMs - performance.now();
    if (wait > 0) this.#timer = setTimeout(this.#endDeferred, wait);
    else queueMicrotask(this.#endDeferred);
  }

  /** Tells listeners now of whatever {@link defer} holds (e.g. as the client stops). */
  flush(): void {
    if (!this.#deferred) return;
    clearTimeout(this.#timer);
    this.#endDeferred();
  }

  readonly #endDeferred = (): void => {
    // Already ended by flush(): its microtask or timer finds nothing to do.
    if (!this.#deferred) return;
    this.#deferred = false;
    this.#timer = undefined;
    this.#end();
  };

  #end(): void {
    this.#depth--;
    if (this.#depth === 0 && this.#changed) {
      this.#changed = false;
      this.#lastNotifiedAt = performance.now();
      // Without listeners, the snapshot waits for the next getSnapshot().
      if (this.#listeners.size > 0) {
        const snapshot = this.getSnapshot();
        for (const listener of [...this.#listeners]) this.#call(listener, snapshot);
      }
    }
  }

  #call(listener: (snapshot: S) => void, snapshot: S): void {
    try {
      listener(snapshot);
    } catch (error) {
      this.onListenerError(error);
    }
  }
}
