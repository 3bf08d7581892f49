/**
 * A contact list in React on `xmpp-presence/react`: the roster and presence stores are read with
 * `useSyncExternalStore`, so the list re-renders when a snapshot changes and only then. Rows are
 * memoised: an entry is the same frozen object until that contact changes, so after a roster push
 * only the changed row renders again. A large roster shows a page at a time.
 *
 *   import { Contacts } from "./Contacts.js";
 *   <Contacts client={client} />       // client = createPresenceClient({...}); await client.start()
 */
import { memo, useState } from "react";
import type { PresenceClient, RosterEntry, SubscriptionRequest } from "xmpp-presence";
import { useBestPresence, usePresence, useRoster } from "xmpp-presence/react";

/** Contacts shown before the "show more" button. */
const PAGE = 200;

/** The roster, the pending requests, and a field to ask someone new. */
export function Contacts({ client }: { client: PresenceClient }) {
  const { entries, requests, ready } = useRoster(client);
  const [limit, setLimit] = useState(PAGE);
  // for…of reads a snapshot about as fast as a Map; spreading it whole would be slower.
  const shown: RosterEntry[] = [];
  for (const entry of entries.values()) {
    if (shown.length === limit) break;
    shown.push(entry);
  }
  return (
    <section>
      {!ready && <p>Connecting…</p>}
      <Summary client={client} />
      <ul>
        {[...requests.values()].map((request) => (
          <Request key={request.from} client={client} request={request} />
        ))}
      </ul>
      <ul>
        {shown.map((entry) => (
          <Contact key={entry.jid} client={client} entry={entry} />
        ))}
      </ul>
      {entries.size > shown.length && (
        <button onClick={() => setLimit(limit + PAGE)}>Show more ({entries.size - shown.length} not shown)</button>
      )}
      <AddContact client={client} />
    </section>
  );
}

/**
 * Who is online, from the whole presence snapshot. A component of its own, so that a presence
 * change renders this line again and not the list.
 */
function Summary({ client }: { client: PresenceClient }) {
  const { contacts, own } = usePresence(client);
  let online = 0;
  for (const contact of contacts.values()) if (contact.available) online++;
  const devices = own.size === 0 ? "" : ` · ${own.size} other device${own.size === 1 ? "" : "s"} of yours`;
  return <p data-testid="summary">{`${online} online${devices}`}</p>;
}

/** One contact: presence of their best resource, and the subscription state. */
const Contact = memo(function Contact({ client, entry }: { client: PresenceClient; entry: RosterEntry }) {
  const best = useBestPresence(client, entry.jid); // re-renders only when this contact's presence changes
  return (
    <li>
      <span title={best?.status}>{best ? `● ${best.show}` : "○ offline"}</span> {entry.name ?? entry.jid}{" "}
      <small>{entry.state}</small>{" "}
      <button onClick={() => void client.roster.remove(entry.jid)}>Remove</button>
    </li>
  );
});

function Request({ client, request }: { client: PresenceClient; request: SubscriptionRequest }) {
  return (
    <li>
      {request.from} asks to see your presence{request.status ? `: “${request.status}”` : ""}{" "}
      <button onClick={() => void client.approve(request.from, { subscribeBack: true })}>Approve and subscribe back</button>{" "}
      <button onClick={() => void client.deny(request.from)}>Deny</button>
    </li>
  );
}

function AddContact({ client }: { client: PresenceClient }) {
  const [jid, setJid] = useState("");
  const [error, setError] = useState<string>();
  const add = async () => {
    try {
      await client.subscribe(jid);
      setJid("");
      setError(undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e)); // e.g. invalid-jid: a PresenceError
    }
  };
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        void add();
      }}
    >
      <input value={jid} onChange={(event) => setJid(event.target.value)} placeholder="bob@example.com" />
      <button>Add contact</button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
