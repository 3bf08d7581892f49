/**
 * A small browser client on the SDK's public API: sign in over WebSocket, watch the roster with
 * each contact's subscription state in words and their presence, answer requests, add, edit and
 * remove contacts, and chat a little. No framework: the stores call `render()` on every change.
 */
import { xml } from "@xmpp/xml";
import {
  createPresenceClient,
  hasTo,
  isPresenceError,
  type OwnPresence,
  type PresenceClient,
  type ResourcePresence,
  type RosterEntry,
  type SubscriptionRequest,
  type XmlElement,
} from "xmpp-presence";
import { RosterView } from "./roster-view.js";
import { stateInWords } from "./words.js";

/** What the page server may put in `config.json` (the demo does; any static host may omit it). */
interface Config {
  service?: string;
  domain?: string;
  debug?: boolean;
  accounts?: Array<{ username: string; password: string }>;
}

const $ = <T extends HTMLElement>(selector: string): T => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
};

/** A DOM element with attributes (`on*` functions become listeners) and children; text is always text. */
function h(tag: string, attrs: Record<string, unknown> = {}, ...children: Array<Node | string | false | undefined>): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === "function") element.addEventListener(key.slice(2), value as EventListener);
    else if (value !== undefined && value !== false) element.setAttribute(key, String(value));
  }
  for (const child of children) if (child !== undefined && child !== false) element.append(child);
  return element;
}

const SHOW_WORDS = { chat: "free to chat", available: "online", away: "away", xa: "away for long", dnd: "busy" } as const;

let client: PresenceClient | undefined;
let restoreAutoReply: (() => void) | undefined;
let view: RosterView | undefined;
/** The roster the recipient suggestions were filled from. */
let suggested: ReadonlyMap<string, RosterEntry> | undefined;
/** The requests the list shows, and each one's row: a row is built once per request object. */
let shownRequests: ReadonlyMap<string, SubscriptionRequest> | undefined;
const requestRows = new Map<string, { request: SubscriptionRequest; element: HTMLElement }>();

/** Runs a user action; a failure shows up as a message instead of an unhandled rejection. */
async function act(what: string, action: () => Promise<unknown>): Promise<void> {
  $("#error").textContent = "";
  try {
    await action();
  } catch (error) {
    const text = `${what} failed: ${isPresenceError(error) ? `${error.code}: ${error.message}` : String(error)}`;
    $("#error").textContent = text;
    log(text);
  }
}

function log(text: string): void {
  $("#log").prepend(h("li", {}, h("time", {}, new Date().toLocaleTimeString()), " ", text));
}

// ---- sign in / out -----------------------------------------------------------------------------

async function loadConfig(): Promise<Config> {
  const response = await fetch("config.json").catch(() => undefined);
  const config: Config = response?.ok ? ((await response.json()) as Config) : {};
  const params = new URLSearchParams(location.search);
  const service = params.get("service");
  return { ...config, ...(service ? { service } : {}) };
}

async function signIn(config: Config, form: HTMLFormElement): Promise<void> {
  const data = new FormData(form);
  const service = String(data.get("service")).trim();
  const address = String(data.get("jid")).trim();
  const at = address.lastIndexOf("@");
  const username = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? (config.domain ?? new URL(service).hostname) : address.slice(at + 1);
  const next = createPresenceClient({
    service,
    domain,
    username,
    password: String(data.get("password")),
    resource: `chat-ui-${Math.random().toString(36).slice(2, 6)}`,
    debug: data.get("debug") === "on", // @xmpp/debug: every stanza in the console
  });
  wire(next);
  const error = $("[data-testid=login-error]");
  error.textContent = "";
  $<HTMLButtonElement>("[data-testid=login-submit]").disabled = true;
  try {
    await next.start(); // connect, fetch the roster, send initial presence
  } catch (failure) {
    error.textContent = `Could not sign in: ${failure instanceof Error ? failure.message : String(failure)}`;
    return;
  } finally {
    $<HTMLButtonElement>("[data-testid=login-submit]").disabled = false;
  }
  client = next;
  $("#whoami").textContent = `signed in as ${next.jid ?? ""}`;
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = false;
  $<HTMLInputElement>("#auto-reverse").checked = false;
  log(`online as ${next.jid ?? ""}`);
  render(); // the roster arrived during start(), before this client was the page's
}

async function signOut(): Promise<void> {
  const current = client;
  client = undefined;
  restoreAutoReply = undefined;
  $("#app").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  $("#whoami").textContent = "";
  for (const list of ["#log", "#messages", "#requests", "#contact-jids"]) $(list).replaceChildren();
  view?.clear();
  suggested = undefined;
  shownRequests = undefined;
  requestRows.clear();
  await current?.stop();
}

/** Subscribes the page to one client's stores and events. */
function wire(c: PresenceClient): void {
  const mine = (render: () => void) => () => {
    if (client === c) render();
  };
  c.roster.subscribe(mine(render));
  c.presence.subscribe(mine(render));
  c.on("subscription:request", ({ from, status }) => log(`${from} asks to see your presence${status ? `: “${status}”` : ""}`));
  c.on("subscription:approved", (jid) => log(`${jid} approved: you now see their presence`));
  c.on("subscription:denied", (jid) => log(`${jid} denied your request (or cancelled your subscription)`));
  c.on("subscription:unsubscribed", (jid) => log(`${jid} no longer sees your presence`));
  c.on("subscription:withdrawn", (jid) => log(`${jid} withdrew their request`));
  c.on("subscription:auto-reply", ({ jid, decision }) => log(`auto-reply to ${jid}: ${decision}`));
  c.on("subscription:error", (jid, error) => log(`${jid}: ${error.condition ?? error.message}`));
  c.on("offline", () => log("connection lost: reconnecting…"));
  c.on("online", (jid) => client === c && log(`online again as ${jid}`));
  c.on("error", (error) => log(`error: ${error.message}`));
  // Messages are not the SDK's business: the xmpp.js client underneath handles them.
  c.xmpp.on("stanza", (stanza: XmlElement) => {
    const body = stanza.is("message") && stanza.attrs["type"] !== "error" ? stanza.getChildText("body") : null;
    if (body && client === c) showMessage(`${stanza.attrs["from"]?.split("/")[0] ?? "?"}`, body);
  });
}

// ---- rendering ---------------------------------------------------------------------------------

function render(): void {
  if (!client) return;
  const c = client;
  renderRequests(c, c.roster.getSnapshot().requests);

  // Only what changed is rebuilt, and each group shows a page of members at a time (roster-view.ts).
  view ??= new RosterView($("#roster"), contact, (jid) => client?.presence.best(jid), render);
  view.render(c.roster.groups(), "No contacts yet: add one above.");
}

/**
 * The pending requests. The snapshot hands back the very same map while no request came or went,
 * and the same request object while it is pending, so a roster push or a presence leaves the list
 * alone and a new request builds one row.
 */
function renderRequests(c: PresenceClient, requests: ReadonlyMap<string, SubscriptionRequest>): void {
  if (requests === shownRequests) return;
  shownRequests = requests;
  const rows: HTMLElement[] = [];
  for (const request of requests.values()) {
    let row = requestRows.get(request.from);
    if (row?.request !== request) {
      row = { request, element: requestRow(c, request) };
      requestRows.set(request.from, row);
    }
    rows.push(row.element);
  }
  for (const from of requestRows.keys()) if (!requests.has(from)) requestRows.delete(from);
  $("#requests").replaceChildren(...(rows.length > 0 ? rows : [h("li", { class: "empty" }, "No pending requests.")]));
}

function requestRow(c: PresenceClient, { from, status }: SubscriptionRequest): HTMLElement {
  return h(
    "li",
    { "data-testid": "request", "data-jid": from },
    h("strong", {}, from),
    " asks to see your presence",
    status ? h("q", {}, status) : undefined,
    " ",
    h("button", { "data-testid": "approve", onclick: () => act("Approve", () => c.approve(from)) }, "Approve"),
    h(
      "button",
      { "data-testid": "approve-subscribe", onclick: () => act("Approve", () => c.approve(from, { subscribeBack: true })) },
      "Approve and subscribe back",
    ),
    h("button", { "data-testid": "deny", onclick: () => act("Deny", () => c.deny(from)) }, "Deny"),
  );
}

/** The message form's contact suggestions, filled when the field is used (not on every change). */
function suggestRecipients(): void {
  const entries = client?.roster.getSnapshot().entries;
  if (entries === undefined || entries === suggested) return;
  suggested = entries;
  $("#contact-jids").replaceChildren(...[...entries.keys()].map((jid) => h("option", { value: jid })));
}

function contact(entry: RosterEntry, best: ResourcePresence | undefined): HTMLElement {
  const c = client as PresenceClient;
  const { jid } = entry;
  const presence = best
    ? { dot: best.show, text: `${SHOW_WORDS[best.show]}${best.status ? `: ${best.status}` : ""}` }
    : hasTo(entry.subscription)
      ? { dot: "offline", text: "offline" }
      : { dot: "hidden", text: "presence not shared with you" };
  const canAsk = !hasTo(entry.subscription) && !entry.pendingOut;
  return h(
    "li",
    { class: "contact", "data-testid": "contact", "data-jid": jid, "data-state": entry.state, "data-presence": presence.dot },
    h("span", { class: `dot ${presence.dot}`, title: presence.text }),
    h("span", { class: "who" }, h("strong", {}, entry.name ?? jid), entry.name ? h("small", {}, jid) : undefined),
    h(
      "span",
      { class: "details" },
      h("span", { class: "presence", "data-testid": "presence-text" }, presence.text),
      h(
        "span",
        { class: "state" },
        h("span", { "data-testid": "state-words" }, stateInWords(entry)),
        " ",
        h("code", { title: "RFC 6121 Appendix A state" }, entry.state),
      ),
    ),
    h(
      "span",
      { class: "actions" },
      canAsk && h("button", { "data-testid": "subscribe", onclick: () => act("Subscribe", () => c.subscribe(jid)) }, "Ask to see theirs"),
      h("button", { "data-testid": "edit", onclick: () => edit(entry) }, "Edit"),
      h(
        "button",
        { "data-testid": "remove", onclick: () => act("Remove", () => c.roster.remove(jid)) },
        "Remove",
      ),
    ),
  );
}

function showMessage(from: string, body: string): void {
  $("#messages").prepend(h("li", { "data-testid": "message" }, h("strong", {}, from), ": ", body));
}

/** Name and groups of one contact, in a dialog (so re-renders never eat what is being typed). */
function edit(entry: RosterEntry): void {
  const dialog = $<HTMLDialogElement>("#edit");
  const form = dialog.querySelector("form") as HTMLFormElement;
  (form.querySelector("h2 span") as HTMLElement).textContent = entry.jid;
  (form.elements.namedItem("name") as HTMLInputElement).value = entry.name ?? "";
  (form.elements.namedItem("groups") as HTMLInputElement).value = entry.groups.join(", ");
  dialog.onclose = () => {
    if (dialog.returnValue !== "save" || !client) return;
    const c = client;
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
    const groups = (form.elements.namedItem("groups") as HTMLInputElement).value.split(",").map((g) => g.trim()).filter(Boolean);
    void act("Edit", () => c.roster.update(entry.jid, { name, groups }));
  };
  dialog.returnValue = "";
  dialog.showModal();
}

// ---- start -------------------------------------------------------------------------------------

const config = await loadConfig();
const login = $<HTMLFormElement>("#login");
const field = (name: string) => login.elements.namedItem(name) as HTMLInputElement;
field("service").value = config.service ?? `ws://${location.hostname || "127.0.0.1"}:5280/xmpp-websocket`;
field("debug").checked = config.debug === true;
if (config.accounts?.length) {
  $("#demo-accounts").hidden = false;
  $("#demo-accounts span").replaceChildren(
    ...config.accounts.map(({ username, password }) =>
      h("button", {
        type: "button",
        onclick: () => {
          field("jid").value = `${username}@${config.domain ?? "localhost"}`;
          field("password").value = password;
        },
      }, username),
    ),
  );
}

login.addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn(config, login);
});
$("#logout").addEventListener("click", () => void signOut());

$<HTMLInputElement>("#auto-reverse").addEventListener("change", (event) => {
  if (!client) return;
  if ((event.target as HTMLInputElement).checked) {
    restoreAutoReply = client.autoReply("reverse"); // also answers the requests already pending
    log("auto-approve: on for reverse requests");
  } else {
    restoreAutoReply?.();
    restoreAutoReply = undefined;
    log("auto-approve: off");
  }
});

$<HTMLFormElement>("#add").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const data = new FormData(form);
  const jid = String(data.get("jid")).trim();
  const c = client;
  if (!c) return;
  void act("Add contact", async () => {
    await c.subscribe(jid, { preApprove: data.get("preApprove") === "on" });
    log(`asked ${jid} to see their presence`);
    form.reset();
  });
});

$<HTMLFormElement>("#my-presence").addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(event.target as HTMLFormElement);
  const show = String(data.get("show"));
  const status = String(data.get("status")).trim();
  const presence: OwnPresence = {
    ...(show ? { show: show as NonNullable<OwnPresence["show"]> } : {}),
    ...(status ? { status } : {}),
  };
  const c = client;
  if (c) void act("Set presence", () => c.setPresence(presence));
});

$("#message input[name=to]").addEventListener("focus", suggestRecipients);

$<HTMLFormElement>("#message").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const data = new FormData(form);
  const to = String(data.get("to"));
  const body = String(data.get("body"));
  const c = client;
  if (!c || !to) return;
  void act("Send", async () => {
    await c.xmpp.send(xml("message", { to, type: "chat" }, xml("body", {}, body)) as XmlElement);
    showMessage(`you → ${to}`, body);
    (form.elements.namedItem("body") as HTMLInputElement).value = "";
  });
});
