// The test page's script: the blocks and the read-only Python beside them, as the
// student workspace uses them.
import { createBlocks, pythonOf, toolboxOf } from "/static/vendor/blocks.js";
import { createEditor } from "/static/vendor/editor.js";

const params = new URLSearchParams(location.search);
const lang = params.get("lang") || "en";
const toolbox = params.get("toolbox") ? params.get("toolbox").split(",") : null;
const code = createEditor(document.getElementById("code"), { readOnly: true, fontSize: 16, lang });
const changes = [];
window.changes = changes;
window.pythonOf = pythonOf;
window.toolboxOf = toolboxOf;
window.code = code;
window.blocks = createBlocks(document.getElementById("blocks"), {
  lang, toolbox,
  onChange: (python) => { changes.push(python); code.setDoc(python); },
  onHover: (line) => code.highlightLine(line),
});
code.setDoc(window.blocks.getDoc());
document.body.dataset.ready = "yes";
