/** Where `buildChatUi()` writes by default (ignored by git). */
export declare const DEFAULT_OUT_DIR: string;
/** Builds the chat UI (index.html, style.css, app.js) into `outDir`. */
export declare function buildChatUi(options?: { outDir?: string }): Promise<{ outDir: string; ms: number }>;
