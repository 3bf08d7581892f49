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
   * Holds notifications until the current synchronous run of code ends (the next microtask
   * checkpoint), as if everything until then were one {@link batch}. The stanzas xmpp.js parses
   * from one socket read are handled synchronously, so a flood notifies once per read, not once
   * per stanza. Writes stay visible at once through `getSnapshot()`; only listeners wait.
   */
  defer(): void {
    if (this.#deferred) return;
    this.#deferred = true;
    this.#depth++;
    queueMicrotask(() => {
      this.#deferred = false;
      this.#end();
    });
  }

  #end(): void {
    this.#depth--;
    if (this.#depth === 0 && this.#changed) {
      this.#changed = false;
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
