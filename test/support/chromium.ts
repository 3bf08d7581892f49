/**
 * Debian's Chromium for the browser tests (.ci/run installs it). Like the server harness: installed
 * when missing and the process runs as root; otherwise a one-line instruction. Never skipped.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const apt = (args: string[]) => execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    try {
      apt(["install", "-y", "chromium"]);
    } catch {
      apt(["update"]);
      apt(["install", "-y", "chromium"]);
    }
  }
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`sudo apt-get install -y chromium\` and try again`);
}

/** Headless Chromium as root in a container, with no network but loopback and no background traffic. */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
