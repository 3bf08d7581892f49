// The XEP-0198 counter work-around, replayed with the exact sequence xmpp.js 0.14 produces when
// <enabled/> and stanzas arrive in one TCP chunk (seen against Prosody in integration runs).
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { installStreamManagementCounter } from "../../src/sm-counter.js";
import type { XmppClientLike } from "../../src/xmpp.js";
import { parse } from "../support/fake-xmpp.js";

function fakeWithSm() {
  const entity = new EventEmitter() as EventEmitter & XmppClientLike;
  const sm = { enabled: false, inbound: 0 };
  Object.assign(entity, { status: "online", streamManagement: sm });
  // xmpp.js' own counting middleware: +1 for what reaches it (IQ replies the caller consumed do not).
  entity.on("element", (el: { name: string; attrs: Record<string, string> }) => {
    const consumedReply = el.name === "iq" && el.attrs["type"] === "result";
    if (["presence", "message", "iq"].includes(el.name) && !consumedReply) sm.inbound += 1;
  });
  return { entity, sm };
}

describe("stream-management counter work-around", () => {
  it("counts IQ replies the caller consumes, and survives xmpp.js' late reset after <enabled/>", () => {
    for (const fixed of [false, true]) {
      const { entity, sm } = fakeWithSm();
      if (fixed) installStreamManagementCounter(entity);
      const feed = (s: string) => entity.emit("element", parse(s));
      feed(`<enabled xmlns="urn:xmpp:sm:3" id="x" resume="true"/>`);
      feed(`<presence from="a@l/r"/>`);
      feed(`<presence type="subscribe" from="b@l"/>`);
      const ackBeforeReset = sm.inbound; // xmpp.js answers an <r/> in the same chunk with this
      sm.enabled = true;
      sm.inbound = 0; // xmpp.js' enabled() continuation runs only now
      feed(`<iq type="result" id="1"/>`);
      feed(`<presence from="c@l/r"/>`);
      if (fixed) {
        expect(ackBeforeReset).toBe(2);
        expect(sm.inbound).toBe(4); // monotonic, and the consumed reply counted
      } else {
        expect(sm.inbound).toBeLessThan(ackBeforeReset); // the bug: h goes down
      }
    }
  });

  it("starts again from zero after the session is gone, and keeps counting across a resume", () => {
    const { entity, sm } = fakeWithSm();
    installStreamManagementCounter(entity);
    entity.emit("element", parse(`<enabled xmlns="urn:xmpp:sm:3"/>`));
    entity.emit("element", parse(`<message from="a@l"/>`));
    entity.emit("disconnect");
    entity.emit("element", parse(`<resumed xmlns="urn:xmpp:sm:3" h="0" previd="x"/>`));
    entity.emit("element", parse(`<message from="a@l"/>`));
    expect(sm.inbound).toBe(2);
    Object.assign(entity, { status: "offline" });
    entity.emit("offline");
    sm.inbound = 0;
    expect(sm.inbound).toBe(0);
  });
});
