// Blocks in the workspace: for lessons with blocks (lesson.blocks), the program is built
// from blocks (vendor/blocks.js, Blockly) and the Python they make is shown beside them,
// read-only, with the block under the pointer highlighted in it. What runs, is saved
// and is handed in is that Python: this module gives the workspace an editor with the
// text editor's getDoc, so running and handing in need no change. "Continue in Python"
// turns the blocks into Python in the text editor: one way.
//
// The blocks are saved with their Python on the console (the autosave and its versions),
// and on this computer too (localStorage), so a class that loses the console a moment
// loses nothing; the hand-ins keep the Python.

import { h } from "../dom.js";
import { createBlocks } from "../vendor/blocks.js";
import { createEditor } from "../vendor/editor.js";
import { changedCode, work } from "./code.js";
import { lang, t } from "./i18n.js";

const key = () => `rc-blocks:${work.me.student_id}:${work.lesson.id}`;
const typedKey = () => `${key()}:python`;

function savedBlocks() {
  if (work.lesson.saved_blocks) return work.lesson.saved_blocks;
  try {
    return JSON.parse(localStorage.getItem(key()) || "null");
  } catch {
    return null;
  }
}

// The lesson opens in blocks when it has them and the student has not gone on in Python.
export function wantsBlocks(lesson) {
  if (!lesson.blocks) return false;
  if (localStorage.getItem(typedKey()) === "yes") return false;
  return savedBlocks() !== null || lesson.code === lesson.starter;
}

// The student chose Python (one way) or blocks again.
export function chooseMode(blocks) {
  if (blocks) localStorage.removeItem(typedKey());
  else localStorage.setItem(typedKey(), "yes");
}

/**
 * Blocks and their Python in `parent`, with the text editor's methods (getDoc, setDoc,
 * markError, ...). setDoc(text) means "this Python now" (a restored version): it calls
 * onLeave(text), which continues in Python.
 */
export function createBlockEditor(parent, { fontSize, onLeave }) {
  const lesson = work.lesson;
  const area = h("div", { class: "blocks-area" });
  const side = h("div", { class: "blocks-code" },
    h("p", { class: "blocks-code-title" }, t("blocks.python")));
  const pane = h("div", { class: "blocks-pane" }, area, side);
  parent.append(pane);
  const code = createEditor(side, { readOnly: true, fontSize: Math.max(14, fontSize - 4), lang: lang.now });
  let state = savedBlocks() || lesson.blocks.starter;
  const blocks = createBlocks(area, {
    lang: lang.now,
    toolbox: lesson.blocks.toolbox,
    state,
    onChange: (python, now) => {
      state = now;
      code.setDoc(python);
      localStorage.setItem(key(), JSON.stringify(now));
      changedCode();
    },
    onHover: (line) => code.highlightLine(line),
  });
  code.setDoc(blocks.getDoc());
  return {
    blocks,
    code,
    getDoc: () => blocks.getDoc(),
    /** The block program now (Blockly's JSON), saved on the console with its Python. */
    getState: () => state,
    setDoc: (text) => onLeave(text),
    /** Start again from the lesson's block starter. */
    reset() {
      blocks.setState(lesson.blocks.starter);
    },
    /** The blocks step `i` offers (its own toolbox, else the lesson's). */
    pickStep(i) {
      blocks.setToolbox((lesson.blocks.steps || [])[i] || lesson.blocks.toolbox);
    },
    markError: (line, message) => code.markError(line, message),
    clearErrors: () => code.clearErrors(),
    highlightLine: (line) => code.highlightLine(line),
    setFontSize: (px) => code.setFontSize(Math.max(14, px - 4)),
    setReadOnly: () => {},
    focus: () => area.focus(),
    destroy() {
      blocks.destroy();
      code.destroy();
      pane.remove();
    },
  };
}
