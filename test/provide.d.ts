// Values provided by test/global-setup.ts, read in tests with `inject("prosody")`.
export {};

declare module "vitest" {
  export interface ProvidedContext {
    prosody: {
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
      /** The server's configuration file, for `registerAccount()`. */
      configPath: string;
    };
  }
}
