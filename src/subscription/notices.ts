/**
 * Pairs a contact's subscription notice (an inbound `unsubscribed` or `unsubscribe` presence)
 * with the roster push that reflects it, so an event fires once, after the roster shows the
 * change, in either arrival order. RFC 6121 §3.2.3/§3.3.3 say the presence comes first (Prosody
 * does that); ejabberd 23.01 pushes first. A roster loss alone cannot say who caused it (our own
 * `unsubscribe` looks the same as their `unsubscribed`), and a notice alone may be stale
 * (§3.1.6/§3.2.3 implementation notes), so each waits a short while for the other.
 */

/** The two contact actions that need pairing. */
export type NoticeKind = "denied" | "unsubscribed";

interface Evidence {
  side: "notice" | "push";
  at: number;
}

/** How long an unpaired half waits for the other. */
export const PAIRING_WINDOW_MS = 10_000;

/** Pairs halves per JID and kind; `now` is injectable for tests. */
export class NoticePairing {
  #waiting = new Map<string, Evidence>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Records one half. Returns true when it completes a pair (the event should fire now).
   * `side` is "notice" for the presence, "push" for the roster change.
   */
  record(kind: NoticeKind, jid: string, side: Evidence["side"]): boolean {
    const key = `${kind} ${jid}`;
    const other = this.#waiting.get(key);
    const now = this.now();
    if (other !== undefined && other.side !== side && now - other.at <= PAIRING_WINDOW_MS) {
      this.#waiting.delete(key);
      return true;
    }
    // Re-inserted, so the map stays oldest-first and pruning stops at the first fresh entry.
    this.#waiting.delete(key);
    this.#waiting.set(key, { side, at: now });
    this.#prune(now);
    return false;
  }

  /** Whether an unexpired push half waits for a notice of this kind. */
  hasPush(kind: NoticeKind, jid: string): boolean {
    const evidence = this.#waiting.get(`${kind} ${jid}`);
    return evidence?.side === "push" && this.now() - evidence.at <= PAIRING_WINDOW_MS;
  }

  /** Forgets everything (a new session). */
  clear(): void {
    this.#waiting.clear();
  }

  #prune(now: number): void {
    // Oldest first: drop expired halves from the front, O(1) amortised per record.
    for (const [key, evidence] of this.#waiting) {
      if (now - evidence.at <= PAIRING_WINDOW_MS) break;
      this.#waiting.delete(key);
    }
  }

}
