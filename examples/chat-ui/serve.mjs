/**
 * A tiny static file server for the built chat UI, on 127.0.0.1, plus `/config.json` (what the
 * login form is prefilled with). Enough for a demo and a test; use any static host in real life.
 */
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
};

/**
 * Serves `dir` on `host:port` (port 0: any free port). Resolves once listening, with the page's
 * `url` and `close()`, which resolves when the server has stopped.
 */
export async function serveChatUi({ dir, config = {}, host = "127.0.0.1", port = 0 }) {
  const root = normalize(dir + sep);
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, headers).end();
      return;
    }
    if (path === "/config.json") {
      response.writeHead(200, { ...headers, "content-type": TYPES[".json"] }).end(JSON.stringify(config));
      return;
    }
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(root)) {
      response.writeHead(403, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { ...headers, "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch {
      response.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === "object" && address ? address.port : port}/`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      }),
  };
}
