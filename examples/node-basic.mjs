// A minimal Node.js client: connect, print the roster, and approve every subscription request,
// asking for the contact's presence in return.
//
//   XMPP_SERVICE=xmpp://127.0.0.1:5222 XMPP_DOMAIN=localhost XMPP_USERNAME=alice XMPP_PASSWORD=secret \
//     node examples/node-basic.mjs
import { createPresenceClient } from "xmpp-presence";

const { XMPP_SERVICE, XMPP_DOMAIN, XMPP_USERNAME, XMPP_PASSWORD } = process.env;
if (!XMPP_SERVICE || !XMPP_USERNAME || !XMPP_PASSWORD) {
  console.error("Set XMPP_SERVICE, XMPP_USERNAME and XMPP_PASSWORD (and XMPP_DOMAIN if it differs from the host).");
  process.exit(2);
}

const client = createPresenceClient({
  service: XMPP_SERVICE,
  ...(XMPP_DOMAIN ? { domain: XMPP_DOMAIN } : {}),
  username: XMPP_USERNAME,
  password: XMPP_PASSWORD,
});

client.on("error", (error) => console.error("background error:", error.message));
client.on("subscription:request", async ({ from, status }) => {
  console.log(`${from} asks to see your presence${status ? `: "${status}"` : ""}`);
  try {
    await client.approve(from, { subscribeBack: true });
    console.log(`approved ${from}, and asked for theirs`);
  } catch (error) {
    console.error(`could not approve ${from}: ${error.message}`);
  }
});
client.on("subscription:approved", (jid) => console.log(`${jid} approved us: we now see their presence`));
client.on("roster:change", ({ jid }) => console.log(`roster: ${jid} is now ${client.roster.get(jid)?.state ?? "removed"}`));

await client.start();
console.log(`online as ${client.jid}`);
for (const entry of client.roster.getSnapshot().entries.values()) {
  console.log(`  ${entry.jid}  subscription=${entry.subscription}  state="${entry.state}"`);
}

process.on("SIGINT", async () => {
  await client.stop();
  process.exit(0);
});
