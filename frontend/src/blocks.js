// The student's blocks: Blockly with RoboClass's blocks, writing the same Python the
// student could type.
//
//   import { createBlocks, pythonOf } from "/static/vendor/blocks.js";
//   const blocks = createBlocks(document.querySelector("#blocks"), {
//     lang: "zh", toolbox: ["start", "drive_seconds", "repeat"], state: savedJson,
//     media: "/static/vendor/blockly-media/", onChange: (python, state) => save(python, state),
//   });
//   blocks.getDoc();        // the Python the blocks make
//   blocks.lineOf(blockId); // the line of that block in it
//   pythonOf(json);         // the Python of a saved program (Blockly's JSON), no page needed
//
// The console's Content-Security-Policy allows no <style> elements: Blockly's CSS (its
// own and its renderer's) is adopted as constructed style sheets instead. Nothing is
// fetched from anywhere but `media` on the console.

import * as Blockly from "blockly/core";
import "blockly/blocks";
import { pythonGenerator } from "blockly/python";
import * as En from "blockly/msg/en";
import * as ZhHans from "blockly/msg/zh-hans";

import { BLOCK_NAMES, defineBlocks, definePython, toolboxOf } from "./blockset.js";

export { BLOCK_NAMES, toolboxOf };

const MESSAGES = { en: En, zh: ZhHans };
const MARK = "#@@rc-block ";

// Blockly adds <style> elements to <head>; the CSP refuses them. Adopt their text instead.
const adopted = new Map();
function adoptStyles() {
  if (adoptStyles.done) return;
  adoptStyles.done = true;
  const head = document.head;
  const prepend = head.prepend.bind(head);
  head.prepend = (...nodes) => {
    const rest = [];
    for (const node of nodes) {
      if (node instanceof HTMLStyleElement && /blockly/.test(`${node.id} ${node.className}`)) {
        const key = node.id || node.textContent.slice(0, 200);
        if (!adopted.has(key)) {
          const sheet = new CSSStyleSheet();
          sheet.replaceSync(node.textContent);
          adopted.set(key, sheet);
          document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        }
      } else rest.push(node);
    }
    if (rest.length) prepend(...rest);
  };
}

let setUp = null;
function useLang(lang) {
  const chosen = MESSAGES[lang] ? lang : "en";
  if (setUp === chosen) return;
  Blockly.setLocale(MESSAGES[chosen]);
  defineBlocks(chosen);
  if (setUp === null) {
    definePython(pythonGenerator);
    // Blockly's "Help" opens its wiki on the internet: not from a classroom's console
    const menu = Blockly.ContextMenuRegistry.registry;
    if (menu.getItem("blockHelp")) menu.unregister("blockHelp");
  }
  setUp = chosen;
}

// The program: what hangs under each "when the program starts" (loose blocks are left out).
function generate(workspace) {
  const g = pythonGenerator;
  g.STATEMENT_PREFIX = `${MARK}%1\n`;
  g.init(workspace);
  const parts = workspace.getTopBlocks(true).filter((b) => b.type === "start" && b.isEnabled())
    .map((b) => g.blockToCode(b));
  const code = g.finish(parts.join("\n"));
  g.STATEMENT_PREFIX = null;
  // drop the marks, remembering the line each block's code starts on
  const lines = [];
  const lineOf = new Map();
  let waiting = [];
  for (const line of code.split("\n")) {
    const at = line.indexOf(MARK);
    if (at >= 0 && !line.slice(0, at).trim()) waiting.push(line.slice(at + MARK.length));
    else {
      lines.push(line);
      for (const id of waiting) lineOf.set(id, lines.length);
      waiting = [];
    }
  }
  const text = `${lines.join("\n").replace(/\n{3,}/g, "\n\n\n").trim()}\n`;
  return { text, lineOf };
}

/** The Python of a program saved as Blockly's JSON (no page, no toolbox needed). */
export function pythonOf(state, lang = "en") {
  useLang(lang);
  const workspace = new Blockly.Workspace();
  try {
    Blockly.serialization.workspaces.load(state, workspace);
    return generate(workspace).text;
  } finally {
    workspace.dispose();
  }
}

/**
 * Blocks in `parent`. Options: lang ("en"/"zh"); toolbox: the block names offered
 * (default all); state: a saved program (Blockly's JSON); media: Blockly's media folder;
 * onChange(python, state) after every change; onHover(line | null) when the pointer is
 * over a block (the line of its code).
 */
export function createBlocks(parent, options = {}) {
  const {
    lang = "en", toolbox = null, state = null, media = "/static/vendor/blockly-media/",
    onChange = null, onHover = null,
  } = options;
  adoptStyles();
  useLang(lang);
  const host = document.createElement("div");
  host.className = "rc-blocks";
  parent.appendChild(host);
  const workspace = Blockly.inject(host, {
    toolbox: toolboxOf(toolbox, lang), media, css: true, sounds: false, renderer: "zelos",
    trashcan: true, move: { scrollbars: true, drag: true, wheel: true },
    zoom: { controls: true, wheel: false, startScale: 0.9, maxScale: 2, minScale: 0.5 },
    grid: { spacing: 40, length: 2, colour: "#e5e7eb", snap: false },
  });
  if (state) Blockly.serialization.workspaces.load(state, workspace);
  let made = generate(workspace);
  workspace.addChangeListener((event) => {
    if (event.isUiEvent) return;
    made = generate(workspace);
    if (onChange) onChange(made.text, Blockly.serialization.workspaces.save(workspace));
  });
  if (onHover) {
    host.addEventListener("pointerover", (event) => {
      const group = event.target.closest && event.target.closest(".blocklyDraggable[data-id]");
      const id = group && group.getAttribute("data-id");
      onHover(id && made.lineOf.has(id) ? made.lineOf.get(id) : null);
    });
    host.addEventListener("pointerleave", () => onHover(null));
  }
  return {
    workspace,
    host,
    /** The Python the blocks make now. */
    getDoc: () => made.text,
    /** The program as Blockly's JSON (what is saved). */
    getState: () => Blockly.serialization.workspaces.save(workspace),
    /** The line (1-based) where a block's code starts, or null. */
    lineOf: (id) => made.lineOf.get(id) ?? null,
    resize: () => Blockly.svgResize(workspace),
    destroy() {
      workspace.dispose();
      host.remove();
    },
  };
}
