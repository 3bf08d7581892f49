/**
 * The text of a parsed element, read on the per-item and per-stanza paths: the group of every
 * roster item, and a presence's show, status and priority.
 */
import type { XmlElement } from "./xmpp.js";

/**
 * `element.getText()` without its loop for the usual lone text child. A roster result or a
 * presence flood reads one per item or stanza, much of it before V8 has optimised the code,
 * where each loop and call counts (bench/results.md, Issue 6 fourteenth pass).
 */
export function textOf(element: XmlElement): string {
  const { children } = element;
  return children.length === 1 && typeof children[0] === "string" ? children[0] : element.getText();
}
