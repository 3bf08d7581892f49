/**
 * Copies of parsed strings that the stores keep for long.
 *
 * V8 represents a substring of 13 characters or more as a view into the string it was cut from,
 * and ltx cuts attribute values and text out of the chunk it parses: a socket read of up to
 * 64 KB, or the whole roster result (megabytes). One such string kept in a store (a JID key, a
 * resource, a status) keeps its whole chunk alive. Measured before this existed: after a flood
 * of 100 000 presences the SDK held ~50 MB of socket chunks through the ~40 000 resource names
 * and statuses it kept, and garbage collection of that heap was most of the flood's cost.
 */

// One exception: the JIDs and names of a roster result that becomes the whole roster stay views
// (see parseRosterQuery in roster/codec.ts): there the kept strings are most of their chunks.

/** `text` as a string of its own, not a view into a larger one (a no-op for short strings). */
export function detach(text: string): string {
  // Concatenating makes a new flat string once flattened, and slicing it keeps only that one.
  return text.length < 13 ? text : (` ${text}`).slice(1);
}
