/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, or BENCH_PROFILE=DIR npm run bench): self time
 * per function and per file, heaviest first. `node --import tsx bench/profile-summary.ts FILE…`
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const top = Number(process.env["TOP"] ?? 25);
for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    total += dt;
    const url = node.callFrame.url.replace(/^.*node_modules\//, "~/").replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
    const key = `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const f = url.replace(/:\d+$/, "") || node.callFrame.functionName;
    byFile.set(f, (byFile.get(f) ?? 0) + dt);
  });
  const fmt = (us: number) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  console.log("  by function (self):");
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${fmt(v)}  ${k}`);
  console.log("  by file (self):");
  for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${fmt(v)}  ${k}`);
}
