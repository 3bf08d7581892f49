/**
 * A rollup plugin that transpiles TypeScript file by file, for the bench's browser bundles
 * (bench/bundle-size.ts, bench/browser.ts): no type check (that is `npm run typecheck`'s job),
 * and a `./x.js` import from a .ts file finds `./x.ts` (or `./x.tsx`), as the SDK's sources are
 * written. `.tsx` (examples/react) compiles JSX for React 17+'s automatic runtime.
 */
import { existsSync } from "node:fs";
import type { Plugin } from "rollup";
import ts from "typescript";

export function transpileTs(): Plugin {
  return {
    name: "transpile-ts",
    resolveId(source, importer) {
      if (/\.tsx?$/.test(importer ?? "") && source.startsWith(".") && source.endsWith(".js")) {
        for (const extension of [".ts", ".tsx"]) {
          const candidate = new URL(source.replace(/\.js$/, extension), `file://${importer}`).pathname;
          if (existsSync(candidate)) return candidate;
        }
      }
      return null;
    },
    transform(code, id) {
      if (!/\.tsx?$/.test(id)) return null;
      const out = ts.transpileModule(code, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true, jsx: ts.JsxEmit.ReactJSX },
        fileName: id,
      });
      return { code: out.outputText, map: null };
    },
  };
}
