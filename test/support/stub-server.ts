/**
 * A scripted XMPP server on 127.0.0.1 for what a real server will not do on demand: hostile or
 * malformed bytes, forged replies, floods, a UTF-8 character split across TCP segments. It logs
 * a client in (SASL PLAIN, bind), answers the roster get, and then writes whatever the test
 * injects, byte for byte.
 */
import { createServer, type Socket } from "node:net";

export interface StubServer {
  service: string;
  /** Every connection's socket, in order. */
  sockets: Socket[];
  /** Raw text the clients sent. */
  received: string[];
  /** Writes raw bytes to the newest connection. */
  inject(data: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface StubOptions {
  /** `<item/>` elements of the roster result. */
  roster?: string;
  /** Written before the real roster result, with the roster get's id substituted for `$ID`. */
  beforeRosterResult?: string;
  /**
   * Never answer the client's `</stream:stream>` or end of the connection (a busy server): the
   * connection stays half-open until the test resets it (`sockets[i].resetAndDestroy()`).
   */
  unresponsiveClose?: boolean;
}

const header = (id: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='${id}' from='localhost' version='1.0' xml:lang='en'>`;

export async function startStub(options: StubOptions = {}): Promise<StubServer> {
  const sockets: Socket[] = [];
  const received: string[] = [];
  const server = createServer({ allowHalfOpen: options.unresponsiveClose ?? false }, (socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    let buffer = "";
    let authenticated = false;
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => {
      const text = chunk.toString("utf8");
      received.push(text);
      buffer += text;
      for (;;) {
        const open = buffer.indexOf("<stream:stream");
        const auth = buffer.indexOf("<auth");
        const iq = /<iq [^>]*>.*?<\/iq>/su.exec(buffer);
        if (open !== -1 && (auth === -1 || open < auth) && (!iq || open < iq.index)) {
          buffer = buffer.slice(buffer.indexOf(">", open) + 1);
          const features = authenticated
            ? `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`
            : `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
          socket.write(header(`s${sockets.length}`) + features);
          continue;
        }
        if (auth !== -1 && (!iq || auth < iq.index)) {
          const end = buffer.indexOf("</auth>", auth);
          if (end === -1) break;
          buffer = buffer.slice(end + 7);
          authenticated = true;
          socket.write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
          continue;
        }
        if (iq) {
          buffer = buffer.slice(iq.index + iq[0].length);
          const id = /id="([^"]*)"/u.exec(iq[0])?.[1] ?? "";
          if (iq[0].includes("urn:ietf:params:xml:ns:xmpp-bind")) {
            socket.write(`<iq type='result' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/stub</jid></bind></iq>`);
          } else if (iq[0].includes("jabber:iq:roster") && iq[0].includes('type="get"')) {
            if (options.beforeRosterResult) socket.write(options.beforeRosterResult.replaceAll("$ID", id));
            socket.write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster' ver='1'>${options.roster ?? ""}</query></iq>`);
          } else if (/type="(get|set)"/u.test(iq[0])) {
            socket.write(`<iq type='error' id='${id}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
          }
          continue;
        }
        break;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    service: `xmpp://127.0.0.1:${port}`,
    sockets,
    received,
    inject: (data) =>
      new Promise<void>((resolve, reject) => {
        const socket = sockets.at(-1);
        if (!socket) return reject(new Error("no connection"));
        socket.write(data, (error) => (error ? reject(error) : resolve()));
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
