/**
 * Builds dist/: `index.js` + `index.d.ts` (the SDK, for Node and browsers), and the Node-only
 * subpaths `xmpp-presence/file-storage` (`file-storage.js`, the roster cache on disk: kept apart
 * so browser bundles never see `node:fs`) and `xmpp-presence/testing` (`testing.js`, the Prosody
 * harness), and `xmpp-presence/react` (`react.js`, hooks; `react` is an optional peer dependency).
 * Code shared between entries goes to a hashed chunk.
 * Run with `rollup -c rollup.config.ts --configPlugin typescript` (`npm run build`).
 */
import { readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import typescriptPlugin from "@rollup/plugin-typescript";
import { defineConfig } from "rollup";
import { dts } from "rollup-plugin-dts";

// The plugin's types describe a CommonJS module under NodeNext (its package.json has no
// "type": "module"), while Node loads its ESM build, whose default export is the function.
const typescript = typescriptPlugin as unknown as (typeof typescriptPlugin)["default"];

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as PackageJson;
const dependencies = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });

/** Dependencies (and their subpaths) and Node built-ins stay imports; only our own code is bundled. */
function external(id: string): boolean {
  if (id.startsWith("node:") || builtinModules.includes(id)) return true;
  return dependencies.some((name) => id === name || id.startsWith(`${name}/`));
}

const input = {
  index: "src/index.ts",
  "file-storage": "src/storage/file.ts",
  testing: "src/testing/index.ts",
  react: "src/react.ts",
};

// A fresh dist/ on every build, so no file of an older layout is ever published.
if (!process.env["ROLLUP_WATCH"]) rmSync(new URL("./dist", import.meta.url), { recursive: true, force: true });

export default defineConfig([
  {
    input,
    external,
    output: {
      dir: "dist",
      format: "es",
      entryFileNames: "[name].js",
      chunkFileNames: "[name]-[hash].js",
      sourcemap: true,
    },
    plugins: [typescript({ tsconfig: "./tsconfig.build.json" })],
  },
  {
    input,
    external,
    output: {
      dir: "dist",
      format: "es",
      entryFileNames: "[name].d.ts",
      chunkFileNames: "[name]-[hash].d.ts",
    },
    plugins: [dts({ tsconfig: "./tsconfig.build.json" })],
  },
]);
