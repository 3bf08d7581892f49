/**
 * A loopback-only XMPP replay server for the benchmark: just enough of RFC 6120 (stream header,
 * SASL PLAIN, restart, resource binding) and RFC 6121 (roster get) to log a client in, over TCP
 * and over WebSocket (RFC 7395, framing written here so both transports share one code path),
 * then canned stanzas written as fast as the client reads them (socket.write's return value and
 * 'drain' are respected, so the client's parsing speed sets the pace).
 *
 * No stream management, no roster versioning, no TLS are offered, so every client does the same
 * work. The username picks the roster the session gets: `<scenario>-<rosterSize>[-anything]`.
 * A workload starts when the client sends `<message><body>go KEY</body></message>`, KEY being
 * one registered with {@link ReplayServer.prepare} beforehand (so generating the bytes is never
 * timed).
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import * as xmppXml from "@xmpp/xml";
import { BOUND_JID, DOMAIN, rosterResult } from "./workloads.js";

const HOST = "127.0.0.1";
const CHUNK = 64 * 1024;
const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

interface XmlParser {
  on(event: string, listener: (...args: any[]) => void): void;
  write(data: string): void;
}
/** The streaming parser xmpp.js uses (its module declaration here only types `xml`). */
const { Parser } = xmppXml as unknown as { Parser: new () => XmlParser };

interface Element {
  name: string;
  attrs: Record<string, string | undefined>;
  getChild(name: string, xmlns?: string): Element | undefined;
  getChildText(name: string, xmlns?: string): string | null;
  getText(): string;
}

/** A workload: stanzas written back to back, or one at a time, each after the client's reply (`lockstep`). */
export interface Workload {
  stanzas: readonly string[];
  lockstep?: boolean;
}

interface Encoded {
  tcp: Buffer;
  ws: Buffer;
  /** Per stanza, for lockstep workloads. */
  each?: { tcp: Buffer; ws: Buffer; id: string | undefined }[];
}

export interface ReplayServer {
  readonly tcpService: string;
  readonly wsService: string;
  /** Registers a workload under `key`, encoded once for both transports. */
  prepare(key: string, workload: Workload): void;
  /** Forgets a workload (frees its bytes). */
  discard(key: string): void;
  /** Encodes the roster result of a size now, so the first login to it is not slower than the rest. */
  warmRoster(size: number): void;
  close(): Promise<void>;
}

/** One unmasked server-to-client text frame (RFC 6455 §5.2). */
function wsFrame(payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

function encode(stanzas: readonly string[]): { tcp: Buffer; ws: Buffer } {
  const payloads = stanzas.map((s) => Buffer.from(s, "utf8"));
  return { tcp: Buffer.concat(payloads), ws: Buffer.concat(payloads.map(wsFrame)) };
}

/** Resolves at the socket's next 'drain' (or 'close'), leaving no listener behind. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

async function writeAll(socket: Socket, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; offset += CHUNK) {
    if (socket.destroyed || socket.writableEnded) return;
    if (!socket.write(data.subarray(offset, offset + CHUNK))) await drained(socket);
  }
}

function parseOne(text: string): Element {
  let root: Element | undefined;
  const parser = new Parser();
  parser.on("start", (el: Element & { append(c: Element): void }) => {
    root = el;
  });
  parser.on("element", (el: Element) => (root as unknown as { append(c: Element): void }).append(el));
  parser.on("error", (error: Error) => {
    throw error;
  });
  parser.write(text);
  if (root === undefined) throw new Error(`not XML: ${text.slice(0, 80)}`);
  return root;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}

/** One client connection, whatever the transport. */
class Session {
  #rosterSize = 0;
  #authenticated = false;
  #pendingReply: { id: string; resolve: () => void } | undefined;
  #busy = false;
  // Every write goes through this chain, so a reply sent while a big result is still draining
  // waits its turn instead of landing in the middle of it.
  #out: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Socket,
    private readonly ws: boolean,
    private readonly workloads: Map<string, Encoded>,
    private readonly rosters: (size: number) => Buffer,
    private readonly restart: () => void,
  ) {}

  /** Sends one stanza or nonza (framed on WebSocket), after whatever is queued. */
  send(text: string | Buffer): void {
    const payload = typeof text === "string" ? Buffer.from(text, "utf8") : text;
    void this.write(this.ws ? wsFrame(payload) : payload);
  }

  /** Queues bytes; resolves once they are handed to the socket (and drained when it pushed back). */
  write(data: Buffer): Promise<void> {
    this.#out = this.#out.then(() => writeAll(this.socket, data));
    return this.#out;
  }

  open(): void {
    const id = randomUUID();
    if (this.ws) {
      this.send(`<open xmlns="${NS_FRAMING}" from="${DOMAIN}" id="${id}" version="1.0" xml:lang="en"/>`);
    } else {
      this.send(
        `<?xml version='1.0'?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" from="${DOMAIN}" id="${id}" version="1.0" xml:lang="en">`,
      );
    }
    const features = this.#authenticated
      ? `<bind xmlns="${NS_BIND}"/>`
      : `<mechanisms xmlns="${NS_SASL}"><mechanism>PLAIN</mechanism></mechanisms>`;
    this.send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams">${features}</stream:features>`);
  }

  close(): void {
    if (this.ws) this.send(`<close xmlns="${NS_FRAMING}"/>`);
    else this.send("</stream:stream>");
    this.#out = this.#out.then(() => {
      if (this.socket.writableEnded) return;
      if (this.ws) this.socket.end(Buffer.from([0x88, 0x00]));
      else this.socket.end();
    });
  }

  element(el: Element): void {
    if (el.name === "auth" && el.attrs["xmlns"] === NS_SASL) {
      const [, username = ""] = Buffer.from(el.getText(), "base64").toString("utf8").split("\0");
      this.#rosterSize = Number(username.split("-")[1] ?? 0) || 0;
      this.#authenticated = true;
      this.restart(); // the client restarts the stream after <success/> (RFC 6120 §6.4.6)
      this.send(`<success xmlns="${NS_SASL}"/>`);
      return;
    }
    if (el.name === "iq") return this.#iq(el);
    if (el.name === "message") {
      const body = el.getChildText("body") ?? "";
      if (body.startsWith("go ")) void this.#play(body.slice(3));
    }
    // presence (initial, subscription answers) and anything else: nothing to do
  }

  #iq(el: Element): void {
    const { type, id = "" } = el.attrs;
    if (type === "result" || type === "error") {
      if (this.#pendingReply?.id === id) this.#pendingReply.resolve();
      return;
    }
    const reply = (inner: string) =>
      this.send(`<iq xmlns="jabber:client" type="result" id="${escapeAttr(id)}" to="${BOUND_JID}">${inner}</iq>`);
    if (type === "set" && el.getChild("bind", NS_BIND)) {
      reply(`<bind xmlns="${NS_BIND}"><jid>${BOUND_JID}</jid></bind>`);
      return;
    }
    if (type === "set" && el.getChild("session")) {
      reply("");
      return;
    }
    if (type === "get" && el.getChild("query", "jabber:iq:roster")) {
      // The cached body starts after the id, so one encoding serves every request.
      const head = `<iq xmlns="jabber:client" type="result" id="${escapeAttr(id)}" to="${BOUND_JID}">`;
      const body = this.rosters(this.#rosterSize);
      const payload = Buffer.concat([Buffer.from(head), body]);
      void this.write(this.ws ? wsFrame(payload) : payload);
      return;
    }
    // RFC 6120 §8.4: an IQ we do not understand (disco, blocklist, …) gets service-unavailable.
    this.send(
      `<iq xmlns="jabber:client" type="error" id="${escapeAttr(id)}" to="${BOUND_JID}"><error type="cancel">` +
        `<service-unavailable xmlns="${NS_STANZAS}"/></error></iq>`,
    );
  }

  async #play(key: string): Promise<void> {
    const workload = this.workloads.get(key);
    if (workload === undefined || this.#busy) {
      this.send(`<message xmlns="jabber:client" to="${BOUND_JID}" type="error"><body>unknown workload ${escapeAttr(key)}</body></message>`);
      return;
    }
    this.#busy = true;
    try {
      if (workload.each === undefined) {
        await this.write(this.ws ? workload.ws : workload.tcp);
        return;
      }
      const closed = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
      for (const one of workload.each) {
        if (this.socket.destroyed) return;
        const replied = new Promise<void>((resolve) => (this.#pendingReply = { id: one.id ?? "", resolve }));
        void this.write(this.ws ? one.ws : one.tcp);
        await Promise.race([replied, closed]);
      }
    } finally {
      this.#busy = false;
      this.#pendingReply = undefined;
    }
  }
}

function handleTcp(socket: Socket, workloads: Map<string, Encoded>, rosters: (size: number) => Buffer): void {
  socket.setNoDelay(true);
  let parser: XmlParser;
  const session = new Session(socket, false, workloads, rosters, () => attach());
  function attach(): void {
    parser = new Parser();
    parser.on("start", () => session.open());
    parser.on("element", (el: Element) => session.element(el));
    parser.on("end", () => session.close());
    parser.on("error", () => socket.destroy());
  }
  attach();
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => parser.write(text));
  socket.on("error", () => undefined);
}

/** A minimal RFC 6455 server side: handshake, masked client frames, close and ping. */
function handleWs(socket: Socket, workloads: Map<string, Encoded>, rosters: (size: number) => Buffer): void {
  socket.setNoDelay(true);
  const session = new Session(socket, true, workloads, rosters, () => undefined);
  let buffer: Buffer = Buffer.alloc(0);
  let upgraded = false;
  let fragments: Buffer[] = [];
  socket.on("error", () => undefined);
  socket.on("data", (data: Buffer) => {
    buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
    if (!upgraded) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buffer.subarray(0, end).toString("latin1");
      buffer = buffer.subarray(end + 4);
      const key = /^sec-websocket-key:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? "";
      const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n`,
      );
      upgraded = true;
    }
    for (;;) {
      if (buffer.length < 2) return;
      const b0 = buffer[0] as number;
      const b1 = buffer[1] as number;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const mask = masked ? buffer.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      buffer = buffer.subarray(offset + length);
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
      const opcode = b0 & 0x0f;
      if (opcode === 0x8) {
        void session.write(Buffer.alloc(0)).then(() => {
          if (!socket.writableEnded) socket.end(Buffer.from([0x88, 0x00]));
        });
        return;
      }
      if (opcode === 0x9) {
        void session.write(Buffer.concat([Buffer.from([0x8a, payload.length]), payload]));
        continue;
      }
      if (opcode === 0xa) continue;
      fragments.push(payload);
      if ((b0 & 0x80) === 0) continue; // more fragments follow
      const text = Buffer.concat(fragments).toString("utf8");
      fragments = [];
      let el: Element;
      try {
        el = parseOne(text);
      } catch {
        socket.destroy();
        return;
      }
      if (el.name === "open" && el.attrs["xmlns"] === NS_FRAMING) session.open();
      else if (el.name === "close" && el.attrs["xmlns"] === NS_FRAMING) session.close();
      else session.element(el);
    }
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

/** Starts the replay server on two free loopback ports (TCP c2s and WebSocket). */
export async function startReplayServer(): Promise<ReplayServer> {
  const workloads = new Map<string, Encoded>();
  const rosterCache = new Map<number, Buffer>();
  const rosters = (size: number): Buffer => {
    let body = rosterCache.get(size);
    if (body === undefined) {
      const full = rosterResult("X", size);
      body = Buffer.from(full.slice(full.indexOf(">") + 1), "utf8");
      rosterCache.set(size, body);
    }
    return body;
  };
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const tcp = createServer((socket) => {
    track(socket);
    handleTcp(socket, workloads, rosters);
  });
  const ws = createServer((socket) => {
    track(socket);
    handleWs(socket, workloads, rosters);
  });
  const [tcpPort, wsPort] = await Promise.all([listen(tcp), listen(ws)]);
  return {
    tcpService: `xmpp://${HOST}:${tcpPort}`,
    wsService: `ws://${HOST}:${wsPort}/xmpp-websocket`,
    prepare(key, workload) {
      const all = encode(workload.stanzas);
      const each = workload.lockstep
        ? workload.stanzas.map((s) => ({ ...encode([s]), id: /^<iq [^>]*\bid="([^"]+)"/.exec(s)?.[1] }))
        : undefined;
      workloads.set(key, { ...all, ...(each ? { each } : {}) });
    },
    discard(key) {
      workloads.delete(key);
    },
    warmRoster(size) {
      rosters(size);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => ws.close(r))]);
    },
  };
}
