/** What `/config.json` tells the page: the login form's defaults. */
export interface ChatUiConfig {
  service?: string;
  domain?: string;
  debug?: boolean;
  accounts?: Array<{ username: string; password: string }>;
}
/** Serves the built chat UI in `dir` on 127.0.0.1 (port 0: any free port). */
export declare function serveChatUi(options: {
  dir: string;
  config?: ChatUiConfig;
  host?: string;
  port?: number;
}): Promise<{ url: string; close(): Promise<void> }>;
