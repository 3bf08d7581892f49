/**
 * The roster as DOM, kept up to date with as little DOM work as a change needs, so the page stays
 * responsive with tens of thousands of contacts (Converse.js hangs above ~8,000: converse.js
 * #3294).
 *
 * - `roster.groups()` hands back the very same member list for a group no change touched, and a
 *   snapshot the very same entry object for a contact that did not change: a group whose list and
 *   visible contacts' presence are unchanged is left alone, and a row is rebuilt only when its
 *   entry or its contact's best presence is a different object.
 * - A group shows its first {@link PAGE} members and a button for the next page: a 100,000-row
 *   list is too much DOM for any page, and nobody scrolls through it.
 */
import type { RosterEntry, RosterGroups, ResourcePresence } from "xmpp-presence";

/** Members shown per group before its "show more" button. */
export const PAGE = 200;

/** Builds the element of one contact (the page's `contact()`). */
export type RowFactory = (entry: RosterEntry, best: ResourcePresence | undefined) => HTMLElement;

interface Row {
  entry: RosterEntry;
  best: ResourcePresence | undefined;
  element: HTMLElement;
}

interface Section {
  element: HTMLElement;
  list: HTMLElement;
  more: HTMLButtonElement;
  /** How many members this group may show (grows by PAGE with each click on "more"). */
  limit: number;
  /** What the list shows now: the members list it came from and how many of them. */
  members: readonly RosterEntry[] | undefined;
  shown: number;
  /** Rows by JID (a contact in several groups has a row in each). */
  rows: Map<string, Row>;
}

export class RosterView {
  readonly #container: HTMLElement;
  readonly #row: RowFactory;
  readonly #bestOf: (jid: string) => ResourcePresence | undefined;
  readonly #onMore: () => void;
  readonly #sections = new Map<string, Section>();
  /** The sections shown, in order, as one string (to tell when the container must change). */
  #orderKey: string | undefined;

  /**
   * @param container - Where the groups go (its children are the view's).
   * @param row - Builds one contact's element.
   * @param bestOf - The contact's best presence now (`client.presence.best`).
   * @param onMore - Called after a "show more" click (the page renders again).
   */
  constructor(container: HTMLElement, row: RowFactory, bestOf: (jid: string) => ResourcePresence | undefined, onMore: () => void) {
    this.#container = container;
    this.#row = row;
    this.#bestOf = bestOf;
    this.#onMore = onMore;
  }

  /** Brings the DOM up to `grouping` (`emptyText` when there are no contacts). */
  render(grouping: RosterGroups, emptyText: string): void {
    const { groups, ungrouped } = grouping;
    const wanted: Array<[string, readonly RosterEntry[]]> = [...groups];
    // "" is the ungrouped section: its heading says "No group" only when there are groups.
    if (ungrouped.length > 0) wanted.push(["", ungrouped]);
    for (const [name, members] of wanted) this.#renderSection(name, members, groups.size > 0);
    const order = wanted.map(([name]) => name);
    const kept = new Set(order);
    for (const name of this.#sections.keys()) if (!kept.has(name)) this.#sections.delete(name);
    const key = order.length === 0 ? "\u0001empty" : order.join("\u0000");
    if (key !== this.#orderKey) {
      const empty = Object.assign(document.createElement("p"), { className: "empty", textContent: emptyText });
      this.#container.replaceChildren(...(order.length === 0 ? [empty] : order.map((name) => (this.#sections.get(name) as Section).element)));
      this.#orderKey = key;
    }
  }

  /** Forgets every row (a new client signed in). */
  clear(): void {
    this.#sections.clear();
    this.#orderKey = undefined;
    this.#container.replaceChildren();
  }

  #renderSection(name: string, members: readonly RosterEntry[], headed: boolean): void {
    let section = this.#sections.get(name);
    if (section === undefined) {
      section = this.#newSection(name);
      this.#sections.set(name, section);
    }
    const heading = section.element.querySelector("h3") as HTMLElement;
    heading.textContent = name || "No group";
    heading.hidden = name === "" && !headed;
    const shown = Math.min(section.limit, members.length);
    if (section.members === members && section.shown === shown) {
      // Same members: only a contact whose presence changed needs a new row.
      for (let i = 0; i < shown; i++) {
        const entry = members[i] as RosterEntry;
        const row = section.rows.get(entry.jid) as Row;
        const best = this.#bestOf(entry.jid);
        if (row.best === best) continue;
        const element = this.#row(entry, best);
        row.element.replaceWith(element);
        section.rows.set(entry.jid, { entry, best, element });
      }
      return;
    }
    const rows = new Map<string, Row>();
    const elements: HTMLElement[] = [];
    for (let i = 0; i < shown; i++) {
      const entry = members[i] as RosterEntry;
      const best = this.#bestOf(entry.jid);
      let row = section.rows.get(entry.jid);
      if (row === undefined || row.entry !== entry || row.best !== best) row = { entry, best, element: this.#row(entry, best) };
      rows.set(entry.jid, row);
      elements.push(row.element);
    }
    section.list.replaceChildren(...elements);
    section.rows = rows;
    section.members = members;
    section.shown = shown;
    const rest = members.length - shown;
    section.more.hidden = rest === 0;
    section.more.textContent = `Show ${Math.min(PAGE, rest)} more (${rest} not shown)`;
  }

  #newSection(name: string): Section {
    const element = document.createElement("div");
    element.className = "group";
    element.dataset["group"] = name;
    const list = document.createElement("ul");
    const more = document.createElement("button");
    more.type = "button";
    more.className = "more";
    more.dataset["testid"] = "show-more";
    element.append(document.createElement("h3"), list, more);
    const section: Section = { element, list, more, limit: PAGE, members: undefined, shown: 0, rows: new Map() };
    more.addEventListener("click", () => {
      section.limit += PAGE;
      this.#onMore();
    });
    return section;
  }
}
