/** How the bench prints figures (in a module of its own: importing bench/run.ts runs the bench). */

/** Milliseconds: `1.23 s`, `45 ms`, `6.78 ms`. */
export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`;
}

/** Bytes: `1.2 MB`, `3.4 KB`, `567 B`. */
export function fmtBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  return abs >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : abs >= 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${bytes} B`;
}
