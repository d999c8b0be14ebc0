// Text from lessons and explanations, where `code` is written in backticks.

import { h } from "../dom.js";

// The text as nodes: each `code` part in a <code>, the rest as it is.
export function richText(text) {
  return String(text || "").split(/(`[^`]+`)/).map((part) => (part.length > 2
    && part.startsWith("`") && part.endsWith("`") ? h("code", {}, part.slice(1, -1)) : part));
}
