// Values provided by test/global-setup.ts, read in tests with `inject("server")`.
export {};

export interface ProvidedServer {
  /** Which server the project runs against. */
  kind: "prosody" | "ejabberd";
  /** XMPP domain served, e.g. "localhost". */
  domain: string;
  /** `xmpp://127.0.0.1:PORT` (plain TCP). */
  service: string;
  /** `ws://127.0.0.1:PORT/xmpp-websocket`. */
  websocketService: string;
  c2sPort: number;
  httpPort: number;
  /** The server's temporary directory. */
  dir: string;
  /** Prosody: the configuration file, for `registerAccounts()`; "" on ejabberd. */
  configPath: string;
  /** ejabberd: the HTTP admin API base URL, for `registerEjabberdAccounts()`; "" on Prosody. */
  apiUrl: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    server: ProvidedServer;
    /** The same as `server` (kept for tests written before the server matrix). */
    prosody: ProvidedServer;
  }
}
