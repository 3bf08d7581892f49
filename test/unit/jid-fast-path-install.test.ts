// createPresenceClient installs the @xmpp/jid fast path, on the class xmpp.js' own middleware
// uses. A file of its own: vitest gives it fresh modules, so nothing has installed it before.
import { JID } from "@xmpp/jid";
import { describe, expect, it } from "vitest";
import type { SetLocal } from "../../src/jid-fast-path.js";
import { createPresenceClient } from "../../src/index.js";
import { createXmppClient, type IncomingContext } from "../../src/xmpp.js";
import { FakeXmpp, parse } from "../support/fake-xmpp.js";

const prototype = JID.prototype as { setLocal: SetLocal };
const original = prototype.setLocal;

describe("createPresenceClient and the @xmpp/jid fast path", () => {
  it("is not installed by a client made with jidFastPath: false; a wrong type is an error", () => {
    createPresenceClient({ xmpp: new FakeXmpp(), jidFastPath: false });
    expect(prototype.setLocal).toBe(original);
    expect(() => createPresenceClient({ xmpp: new FakeXmpp(), jidFastPath: "no" as never })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    expect(prototype.setLocal).toBe(original);
  });

  it("is installed by createPresenceClient, once however many clients are made", () => {
    expect(prototype.setLocal).toBe(original);
    createPresenceClient({ xmpp: new FakeXmpp() });
    const installed = prototype.setLocal;
    expect(installed).not.toBe(original);
    createPresenceClient({ xmpp: new FakeXmpp() });
    expect(prototype.setLocal).toBe(installed);
  });

  it("reaches the JIDs xmpp.js' own middleware builds for every stanza (one copy of @xmpp/jid)", async () => {
    const xmpp = createXmppClient({ service: "ws://127.0.0.1:1/xmpp-websocket", domain: "localhost", username: "a", password: "b" });
    createPresenceClient({ xmpp });
    let seen: IncomingContext & { from?: object; to?: object } = { stanza: parse("<x/>") };
    xmpp.middleware.use((ctx, next) => {
      seen = ctx;
      return next();
    });
    xmpp.on("error", () => undefined);
    (xmpp as unknown as { emit(event: string, element: unknown): void }).emit(
      "element",
      parse('<presence from="Bob@Example.com/phone" to="a@localhost/x"/>'),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.stanza.name).toBe("presence");
    const from = seen.from as { setLocal: SetLocal; local: string } | undefined;
    expect(from?.local).toBe("bob");
    expect(from?.setLocal).toBe(prototype.setLocal);
    expect(from?.setLocal).not.toBe(original);
  });

});
