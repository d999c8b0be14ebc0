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

// Big targets for a child's finger (>= 44 px): the toolbox's rows, the fields' menus.
const OURS = `
.rc-blocks .blocklyToolboxCategory { min-height: 48px; display: flex; align-items: center; font-size: 18px; padding-right: 12px; }
.rc-blocks .blocklyToolboxCategoryIcon { width: 10px; }
.rc-blocks .blocklyToolbox { padding-top: 6px; }
.blocklyDropDownDiv .blocklyMenuItem { min-height: 44px; font-size: 18px; display: flex; align-items: center; }
`;

// Blockly adds <style> elements to <head>; the CSP refuses them. Adopt their text instead.
const adopted = new Map();
function adoptStyles() {
  if (adoptStyles.done) return;
  adoptStyles.done = true;
  const ours = new CSSStyleSheet();
  ours.replaceSync(OURS);
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
          // Blockly's sheets first, ours after them (the same specificity: ours wins)
          document.adoptedStyleSheets = [...document.adoptedStyleSheets.filter((s) => s !== ours), sheet, ours];
        }
      } else rest.push(node);
    }
    if (rest.length) prepend(...rest);
  };
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, ours];
}

// A new program starts with "when the program starts", ready to take blocks.
const EMPTY = { blocks: { languageVersion: 0, blocks: [{ type: "start", x: 40, y: 40 }] } };

const coarse = () => typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;

let setUp = null;
function useLang(lang) {
  const chosen = MESSAGES[lang] ? lang : "en";
  if (setUp === chosen) return;
  Blockly.setLocale(MESSAGES[chosen]);
  defineBlocks(chosen);
  if (setUp === null) {
    pythonGenerator.INDENT = "    "; // Python's four spaces, as the editor indents
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
  // the imports as Python's style has them: import ..., a blank line, from ... import ...
  let first = 0;
  while (first < lines.length && /^(import |from )/.test(lines[first])) first += 1;
  const imports = lines.slice(0, first);
  const plain = imports.filter((l) => l.startsWith("import ")).sort();
  const from = imports.filter((l) => l.startsWith("from ")).sort();
  const head = [...plain, ...(plain.length && from.length ? [""] : []), ...from];
  let rest = lines.slice(first);
  const blank = rest.findIndex((l) => l.trim());
  rest = rest.slice(blank < 0 ? rest.length : blank);
  rest = pep8Blanks(rest);
  const top = head.length ? [...head, "", ""] : [];
  const all = [...top, ...rest];
  // every block's line is at or after the first "with Robot()": it moved as that line did
  const withAt = (list) => Math.max(0, list.findIndex((l) => l.startsWith("with Robot()")));
  const shift = withAt(all) - withAt(lines);
  for (const [id, line] of lineOf) lineOf.set(id, line + shift);
  const text = `${all.join("\n").trimEnd()}\n`;
  // the marks name each block by its id as a Python string: back to the ids
  const byId = new Map();
  for (const block of workspace.getAllBlocks(false)) {
    const quoted = g.quote_(block.id);
    if (lineOf.has(quoted)) byId.set(block.id, lineOf.get(quoted));
  }
  return { text, lineOf: byId };
}

// Two blank lines round each top-level function, as Python's style has it (the line
// numbers of the program under "with Robot()" move with them).
function pep8Blanks(lines) {
  const out = [];
  let inDef = false;
  for (const line of lines) {
    const top = line.trim() !== "" && !/^\s/.test(line);
    if (top && (line.startsWith("def ") || inDef)) {
      while (out.length && out[out.length - 1] === "") out.pop();
      if (out.length) out.push("", "");
    }
    if (top) inDef = line.startsWith("def ");
    out.push(line);
  }
  return out;
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
    // bigger on a tablet (a finger), a little smaller with a mouse
    zoom: { controls: true, wheel: false, startScale: coarse() ? 1.15 : 0.9, maxScale: 2, minScale: 0.5 },
    grid: { spacing: 40, length: 2, colour: "#e5e7eb", snap: false },
  });
  Blockly.Events.disable(); // opening a program is no change to it (nothing to save or undo)
  try {
    Blockly.serialization.workspaces.load(state || EMPTY, workspace);
  } finally {
    Blockly.Events.enable();
  }
  let made = generate(workspace);
  workspace.addChangeListener((event) => {
    if (event.isUiEvent) return;
    made = generate(workspace);
    if (onChange) onChange(made.text, Blockly.serialization.workspaces.save(workspace));
  });
  if (onHover) {
    // the nearest block round the pointer that writes a line of its own (not a number in it)
    host.addEventListener("pointerover", (event) => {
      let el = event.target instanceof Element ? event.target : null;
      while (el) {
        el = el.closest(".blocklyDraggable[data-id]");
        if (el && made.lineOf.has(el.getAttribute("data-id"))) {
          onHover(made.lineOf.get(el.getAttribute("data-id")));
          return;
        }
        el = el && el.parentElement;
      }
      onHover(null);
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
    /** Replace the program (e.g. the lesson's block starter again). */
    setState(next) {
      workspace.clear();
      Blockly.serialization.workspaces.load(next || EMPTY, workspace);
    },
    /** Offer other blocks (a step's toolbox); null: all. */
    setToolbox(names) {
      workspace.updateToolbox(toolboxOf(names, lang));
    },
    resize: () => Blockly.svgResize(workspace),
    destroy() {
      workspace.dispose();
      host.remove();
    },
  };
}
