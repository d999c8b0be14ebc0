// The student's Python editor: CodeMirror 6 with the RoboClass API's completions.
//
//   import { createEditor } from "/static/vendor/editor.js";
//   const editor = createEditor(document.querySelector("#code"), {
//     doc: starter, fontSize: 20, completions: await (await fetch(apiUrl)).json(),
//     onChange: (text) => autosave(text), lang: "zh",
//   });
//   editor.markError(3, "NameError: ...");   // line 3 turns red, a marker in the gutter
//
// Completions (robot., robot.drive., Classifier(, from vision import) and help under the
// mouse come from `completions`, the JSON of lessons.apiref.api_reference(kit).
//
// `make frontend` bundles this file and its npm packages (frontend/package-lock.json)
// into fleet/console/static/vendor/editor.js; nothing is fetched at run time.

import { EditorState, Compartment, StateField, StateEffect, RangeSet } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLineGutter, highlightSpecialChars,
  drawSelection, highlightActiveLine, Decoration, WidgetType, gutter, GutterMarker, hoverTooltip,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, indentUnit,
} from "@codemirror/language";
import {
  autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap,
} from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";

import { completionSource, describeAt } from "./complete.js";

const LABELS = {
  en: {
    editor: "Python program",
    help: "Tab indents. To leave the editor, press Escape, then Tab. Ctrl+Space shows what you can write.",
    error: "Error on this line",
  },
  zh: {
    editor: "Python 程序",
    help: "Tab 键缩进。要离开编辑器，先按 Esc，再按 Tab。按 Ctrl+空格 看看可以写什么。",
    error: "这一行有错误",
  },
};

// -- errors: a red line, a gutter marker and the message under the line ------------

const setErrors = StateEffect.define();

class ErrorMessage extends WidgetType {
  constructor(message) { super(); this.message = message; }
  eq(other) { return other.message === this.message; }
  toDOM() {
    const box = document.createElement("div");
    box.className = "cm-rc-error-message";
    box.setAttribute("role", "alert");
    box.textContent = this.message;
    return box;
  }
  ignoreEvent() { return false; }
}

class ErrorMarker extends GutterMarker {
  constructor(message, label) { super(); this.message = message; this.label = label; }
  eq(other) { return other.message === this.message; }
  toDOM() {
    const mark = document.createElement("span");
    mark.textContent = "!";
    if (this.label == null) { // the gutter's invisible spacer, which sizes it
      mark.className = "cm-rc-error-spacer";
      mark.setAttribute("aria-hidden", "true");
      return mark;
    }
    mark.className = "cm-rc-error-marker";
    mark.title = this.message || this.label;
    mark.setAttribute("aria-label", this.label);
    return mark;
  }
}

// [{line, message}] in the document's current line numbers, moved along with edits
const errorsField = StateField.define({
  create: () => Decoration.none,
  update(decos, tr) {
    decos = decos.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(setErrors)) decos = errorDecorations(tr.state, effect.value);
    }
    return decos;
  },
  provide: (field) => EditorView.decorations.from(field),
});

function errorDecorations(state, errors) {
  const ranges = [];
  for (const { line, message } of errors) {
    const at = state.doc.line(line);
    ranges.push(Decoration.line({ class: "cm-rc-error-line", attributes: { "data-error": message } }).range(at.from));
    if (message) {
      ranges.push(Decoration.widget({ widget: new ErrorMessage(message), block: true, side: 1 }).range(at.to));
    }
  }
  return Decoration.set(ranges, true);
}

function errorGutter(label) {
  return gutter({
    class: "cm-rc-error-gutter",
    markers(view) {
      const markers = [];
      const decos = view.state.field(errorsField);
      decos.between(0, view.state.doc.length, (from, _to, deco) => {
        if (deco.spec.class === "cm-rc-error-line") {
          markers.push(new ErrorMarker(deco.spec.attributes["data-error"], label).range(from));
        }
      });
      return RangeSet.of(markers, true);
    },
    initialSpacer: () => new ErrorMarker("", null),
  });
}

// -- a highlighted line (the block or step being run) ---------------------------------

const setHighlight = StateEffect.define();
const highlightField = StateField.define({
  create: () => Decoration.none,
  update(decos, tr) {
    decos = decos.map(tr.changes);
    for (const effect of tr.effects) {
      if (effect.is(setHighlight)) {
        decos = effect.value == null ? Decoration.none : Decoration.set([
          Decoration.line({ class: "cm-rc-highlight-line" }).range(tr.state.doc.line(effect.value).from),
        ]);
      }
    }
    return decos;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// -- look: big, calm, high contrast --------------------------------------------------

function fontTheme(px) {
  return EditorView.theme({
    "&": { fontSize: `${px}px` },
    ".cm-content, .cm-gutter": { minHeight: `${Math.round(px * 12)}px` },
  });
}

const baseTheme = EditorView.theme({
  "&": { border: "2px solid #6b7280", borderRadius: "8px", backgroundColor: "#ffffff", color: "#111827" },
  "&.cm-focused": { outline: "3px solid #2563eb", outlineOffset: "2px" },
  ".cm-scroller": { fontFamily: "ui-monospace, 'DejaVu Sans Mono', 'Noto Sans Mono CJK SC', monospace", lineHeight: "1.5" },
  ".cm-content": { padding: "8px 0", caretColor: "#111827" },
  ".cm-cursor": { borderLeftWidth: "3px", borderLeftColor: "#111827" },
  ".cm-gutters": { backgroundColor: "#f3f4f6", color: "#4b5563", borderRight: "1px solid #d1d5db" },
  ".cm-activeLine": { backgroundColor: "#eff6ff" },
  ".cm-activeLineGutter": { backgroundColor: "#dbeafe", color: "#111827" },
  ".cm-matchingBracket": { backgroundColor: "#bbf7d0", outline: "1px solid #16a34a" },
  ".cm-nonmatchingBracket": { backgroundColor: "#fecaca" },
  ".cm-rc-error-line": { backgroundColor: "#fee2e2" },
  ".cm-rc-error-message": {
    backgroundColor: "#fef2f2", color: "#991b1b", borderLeft: "4px solid #dc2626",
    padding: "2px 8px", margin: "2px 0 4px", fontFamily: "system-ui, sans-serif", whiteSpace: "pre-wrap",
  },
  ".cm-rc-error-gutter": { minWidth: "1.2em" },
  ".cm-rc-error-spacer": { padding: "0 0.35em" },
  ".cm-rc-error-marker": { color: "#ffffff", backgroundColor: "#dc2626", borderRadius: "50%", padding: "0 0.35em", fontWeight: "bold", cursor: "default" },
  ".cm-rc-highlight-line": { backgroundColor: "#fef9c3" },
  ".cm-tooltip.cm-tooltip-autocomplete > ul": { fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace", maxHeight: "14em" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "#2563eb", color: "#ffffff" },
  ".cm-tooltip-hover": { maxWidth: "28em", fontFamily: "system-ui, sans-serif", padding: "6px 10px" },
  ".cm-completionInfo": { maxWidth: "28em", fontFamily: "system-ui, sans-serif", padding: "6px 10px" },
  ".cm-rc-info-signature": { fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace", fontWeight: "bold", marginBottom: "4px" },
});

// -- the editor ----------------------------------------------------------------------

/**
 * A Python editor in `parent`. Options (all optional):
 *   doc: the text; readOnly: no typing (still selectable, for the teacher's view);
 *   fontSize: px (default 20); completions: the JSON of lessons.apiref.api_reference;
 *   onChange(text): after every change; lang: "en" or "zh" (labels, completion help).
 */
export function createEditor(parent, options = {}) {
  const {
    doc = "", readOnly = false, fontSize = 20, completions = null, onChange = null, lang = "en",
  } = options;
  const labels = LABELS[lang] || LABELS.en;
  const font = new Compartment();
  const editable = new Compartment();
  const ro = (value) => [EditorState.readOnly.of(value)];
  const holder = { ref: completions };

  // The editor lives in a shadow root of its own: there CodeMirror's styles are
  // constructed style sheets, which the console's Content-Security-Policy
  // (style-src 'self', no inline <style>) allows.
  const host = document.createElement("div");
  host.className = "rc-editor";
  parent.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  const view = new EditorView({
    parent: root,
    root,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        errorGutter(labels.error),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        EditorState.allowMultipleSelections.of(false),
        indentUnit.of("    "), // Python's four spaces
        EditorState.tabSize.of(4),
        indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ icons: false, override: [completionSource(holder, lang)] }),
        hoverTooltip((view, pos) => {
          const found = describeAt(holder, lang, view.state, pos);
          return found && { pos: found.from, end: found.to, above: true, create: () => ({ dom: found.dom }) };
        }),
        highlightActiveLine(),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
        python(),
        errorsField,
        highlightField,
        baseTheme,
        font.of(fontTheme(fontSize)),
        editable.of(ro(readOnly)),
        EditorView.contentAttributes.of({ "aria-label": labels.editor, "aria-description": labels.help }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  const lineNumber = (line) => Math.min(Math.max(1, Math.trunc(Number(line)) || 1), view.state.doc.lines);
  let errors = [];

  return {
    view,
    /** The element put in `parent`; the editor is in its (open) shadow root. */
    host,
    /** The program's text. */
    getDoc: () => view.state.doc.toString(),
    /** Replace the whole text (errors and highlight are cleared; undo can bring it back). */
    setDoc(text) {
      errors = [];
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        effects: [setErrors.of([]), setHighlight.of(null)],
      });
    },
    /** Mark `line` (1-based) as wrong: red line, gutter marker, the message under it, scrolled into view. */
    markError(line, message = "") {
      const n = lineNumber(line);
      errors = [...errors.filter((e) => e.line !== n), { line: n, message: String(message) }];
      errors.sort((a, b) => a.line - b.line);
      const at = view.state.doc.line(n);
      view.dispatch({
        effects: [setErrors.of(errors), EditorView.scrollIntoView(at.from, { y: "center" })],
      });
    },
    /** Remove every error mark. */
    clearErrors() {
      errors = [];
      view.dispatch({ effects: setErrors.of([]) });
    },
    /** Highlight `line` (1-based; null clears), e.g. the step that runs now, and scroll to it. */
    highlightLine(line) {
      if (line == null) {
        view.dispatch({ effects: setHighlight.of(null) });
        return;
      }
      const n = lineNumber(line);
      view.dispatch({
        effects: [setHighlight.of(n), EditorView.scrollIntoView(view.state.doc.line(n).from, { y: "nearest" })],
      });
    },
    /** The text size in pixels. */
    setFontSize(px) {
      view.dispatch({ effects: font.reconfigure(fontTheme(Number(px))) });
    },
    /** Read-only (the teacher's view, a run in progress) or editable again. */
    setReadOnly(value) {
      view.dispatch({ effects: editable.reconfigure(ro(Boolean(value))) });
    },
    /** New completions (another kit or lesson). */
    setCompletions(ref) {
      holder.ref = ref;
    },
    focus: () => view.focus(),
    destroy() {
      view.destroy();
      host.remove();
    },
  };
}
