/**
 * Builds the chat UI into a directory: `index.html`, `style.css` and `app.js`, a single ES module
 * that bundles main.ts with the SDK and xmpp.js for the browser.
 *
 * - "xmpp-presence" is the SDK's source here, so no `npm run build` first. TypeScript is only
 *   transpiled, file by file: type-checking is `npm run typecheck`'s job (it covers examples/).
 * - `browser: true` makes rollup honour @xmpp/client's "browser" field, which leaves out the
 *   Node-only transports (TCP, TLS, STARTTLS) and SCRAM: a browser connects over WebSocket, and
 *   authenticates with PLAIN, which xmpp.js only uses on a secure (wss:// or loopback) socket.
 * - `events` (used by @xmpp/events) is the npm package of that name, not Node's module.
 * - @xmpp/debug reads `process.env.XMPP_DEBUG` even when forced on, and browsers have no
 *   `process`: the bundle says "unset" instead, so `debug: true` works in the page.
 *
 *   node examples/chat-ui/build.mjs [OUT_DIR]     # default: examples/chat-ui/dist
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import commonjs from "@rollup/plugin-commonjs";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import replace from "@rollup/plugin-replace";
import { rollup } from "rollup";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** Where `buildChatUi()` writes by default (ignored by git). */
export const DEFAULT_OUT_DIR = join(here, "dist");

/** TypeScript in, JavaScript out, one file at a time; `./x.js` imports find `./x.ts`. */
function typescriptSource() {
  const compilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: true, verbatimModuleSyntax: true };
  return {
    name: "typescript-source",
    resolveId(source, importer) {
      if (source === "xmpp-presence") return join(root, "src/index.ts");
      if (importer?.endsWith(".ts") && source.startsWith(".") && source.endsWith(".js")) {
        const file = resolve(dirname(importer), `${source.slice(0, -3)}.ts`);
        if (existsSync(file)) return file;
      }
      return null;
    },
    transform(code, id) {
      if (!id.endsWith(".ts")) return null;
      const { outputText, sourceMapText } = ts.transpileModule(code, { fileName: id, compilerOptions });
      return { code: outputText, map: sourceMapText };
    },
  };
}

/**
 * Builds the UI into `outDir`. Resolves with the directory and the time it took; rejects on a
 * syntax error or an unresolved import.
 */
export async function buildChatUi({ outDir = DEFAULT_OUT_DIR } = {}) {
  const started = performance.now();
  const problems = [];
  const bundle = await rollup({
    input: join(here, "main.ts"),
    plugins: [
      typescriptSource(),
      nodeResolve({ browser: true, preferBuiltins: false }),
      commonjs(),
      replace({ preventAssignment: true, values: { "process.env.XMPP_DEBUG": "undefined" } }),
    ],
    onwarn(warning) {
      problems.push(`${warning.code ?? "WARNING"}: ${warning.message}`);
    },
  });
  try {
    await bundle.write({ dir: outDir, format: "es", entryFileNames: "app.js", sourcemap: true });
  } finally {
    await bundle.close();
  }
  // Expected: a module left out by a "browser" field is empty, and xmpp.js checks for that
  // (`dns.resolve ? … : …`); circular imports inside dependencies are their business.
  const serious = problems.filter((p) => !p.includes("node-resolve:empty.js") && !p.startsWith("CIRCULAR_DEPENDENCY"));
  if (serious.length > 0) throw new Error(`chat-ui build:\n${serious.join("\n")}`);
  await mkdir(outDir, { recursive: true });
  await Promise.all(["index.html", "style.css"].map((file) => copyFile(join(here, file), join(outDir, file))));
  return { outDir, ms: Math.round(performance.now() - started) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outDir, ms } = await buildChatUi({ outDir: process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR });
  console.log(`built ${outDir} in ${ms} ms`);
}
