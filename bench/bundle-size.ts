/**
 * Browser bundle sizes, all measured the same way: rollup with node-resolve (browser field and
 * conditions) + commonjs, minified by terser, gzip -9. Bundles go to bench/.size/.
 *
 * - xmpp-presence own code: the whole public API (`export *` from src/index.ts), @xmpp/* and
 *   eventemitter3 left out (they are dependencies, not our code); and `createPresenceClient` alone.
 * - xmpp-presence + xmpp.js: everything an app ships for the browser (xmpp.js' browser field drops
 *   TCP, TLS, STARTTLS and SCRAM: WebSocket only), next to xmpp.js alone.
 * - Strophe.js + strophejs-plugin-roster, StanzaJS (createClient), and Converse.js headless. The
 *   last cannot be installed from npm (@converse/headless 14 depends on `libomemo.js`, which the
 *   registry does not have), but its package ships a self-contained bundle: the tarball is fetched
 *   with `npm pack` into bench/.cache and that bundle is minified and gzipped the same way.
 *
 * `node --import tsx bench/bundle-size.ts` prints the table; `--own-only` builds just the bundle
 * size-limit checks (`npm run size`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import commonjsPlugin from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import terserPlugin from "@rollup/plugin-terser";
import { rollup } from "rollup";
import { transpileTs } from "./transpile.js";

// Their types describe CommonJS modules under NodeNext, while Node loads their ESM builds, whose
// default export is the plugin factory (as in rollup.config.ts).
const commonjs = commonjsPlugin as unknown as (typeof commonjsPlugin)["default"];
const terser = terserPlugin as unknown as (typeof terserPlugin)["default"];

const ROOT = new URL("..", import.meta.url).pathname;
const OUT = `${ROOT}bench/.size/`;
const CACHE = `${ROOT}bench/.cache/`;
const CONVERSE = "@converse/headless@14.0.0";

async function bundle(name: string, entry: string, external: (id: string) => boolean = () => false): Promise<number> {
  mkdirSync(`${OUT}entries`, { recursive: true });
  const input = `${OUT}entries/${name}${entry.includes("require(") ? ".cjs" : ".mjs"}`;
  writeFileSync(input, entry);
  const build = await rollup({
    input,
    external,
    logLevel: "silent",
    plugins: [
      transpileTs(),
      nodeResolve({ browser: true, preferBuiltins: false, exportConditions: ["browser"] }),
      commonjs(),
      terser({ compress: { passes: 2 }, format: { comments: false }, module: true }),
    ],
  });
  const { output } = await build.generate({ format: "es", inlineDynamicImports: true });
  await build.close();
  const code = output[0].code;
  writeFileSync(`${OUT}${name}.min.js`, code);
  return gzipSync(code, { level: 9 }).length;
}

const SRC = `${ROOT}src/index.ts`;
const ownExternal = (id: string) => id.startsWith("@xmpp/") || id === "eventemitter3" || id.startsWith("node:");

/** The SDK's own code, minified, for size-limit. Returns its min+gzip size. */
export function buildOwn(): Promise<number> {
  return bundle("own", `export * from ${JSON.stringify(SRC)};\n`, ownExternal);
}

/** The Converse.js headless bundle from its npm tarball, minified by the same terser. */
async function converse(): Promise<number | undefined> {
  const dir = `${CACHE}converse-headless/`;
  const file = `${dir}package/dist/converse-headless.js`;
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync("npm", ["pack", CONVERSE, "--silent", "--pack-destination", dir], { encoding: "utf8" }).trim().split("\n").pop();
    execFileSync("tar", ["xzf", `${dir}${tgz}`, "-C", dir]);
  }
  const { minify } = await import("terser");
  const result = await minify(readFileSync(file, "utf8"), { compress: { passes: 2 }, format: { comments: false }, module: true });
  if (result.code === undefined) return undefined;
  writeFileSync(`${OUT}converse-headless.min.js`, result.code);
  return gzipSync(result.code, { level: 9 }).length;
}

export interface Sizes {
  own: number;
  ownClientOnly: number;
  withXmpp: number;
  xmpp: number;
  strophe: number;
  stanza: number | undefined;
  converse: number | undefined;
  table: string;
}

function kb(bytes: number | undefined): string {
  return bytes === undefined ? "not measured" : `${(bytes / 1024).toFixed(1)} KB`;
}

export async function bundleSizes(log: (line: string) => void = console.log): Promise<Sizes> {
  const own = await buildOwn();
  const ownClientOnly = await bundle("own-client", `export { createPresenceClient } from ${JSON.stringify(SRC)};\n`, ownExternal);
  const withXmpp = await bundle("sdk-xmpp", `export * from ${JSON.stringify(SRC)};\n`);
  const xmpp = await bundle("xmpp", `export { client, xml, jid } from "@xmpp/client";\n`);
  // CommonJS entry: the plugin require()s strophe.js, so one Strophe copy serves both.
  const strophe = await bundle(
    "strophe-roster",
    `const { Strophe } = require("strophe.js");\nrequire("strophejs-plugin-roster");\nmodule.exports = Strophe;\n`,
  );
  const stanza = await bundle("stanza", `export { createClient } from "stanza";\n`).catch(() => undefined);
  const converseSize = await converse().catch((error: unknown) => {
    log(`  (Converse.js headless not measured: ${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
    return undefined;
  });
  const table = [
    "| browser bundle (rollup + node-resolve browser + terser, gzip -9) | min+gzip |",
    "|---|---|",
    `| xmpp-presence own code, whole API (deps external) | ${kb(own)} |`,
    `| xmpp-presence own code, createPresenceClient only | ${kb(ownClientOnly)} |`,
    `| xmpp-presence + xmpp.js (WebSocket only) + eventemitter3 | ${kb(withXmpp)} |`,
    `| xmpp.js alone (@xmpp/client, WebSocket only) | ${kb(xmpp)} |`,
    `| Strophe.js + strophejs-plugin-roster | ${kb(strophe)} |`,
    `| StanzaJS (createClient) | ${kb(stanza)} |`,
    `| Converse.js headless (${CONVERSE}, its prebuilt bundle re-minified) | ${kb(converseSize)} |`,
  ].join("\n");
  return { own, ownClientOnly, withXmpp, xmpp, strophe, stanza, converse: converseSize, table };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  if (process.argv.includes("--own-only")) {
    const own = await buildOwn();
    console.log(`bench/.size/own.min.js: ${kb(own)} min+gzip`);
  } else {
    console.log((await bundleSizes()).table);
  }
}
