// The test page's script: the editor as the student workspace will use it.
import { createEditor } from "/static/vendor/editor.js";

const lang = new URLSearchParams(location.search).get("lang") || "en";
const completions = await (await fetch("/editor-test/api-reference")).json();
const changes = [];
window.changes = changes;
window.editor = createEditor(document.getElementById("code"), {
  doc: "from hardware import Robot\n\nwith Robot() as robot:\n    ",
  fontSize: 22,
  completions,
  lang,
  onChange: (text) => changes.push(text),
});
document.body.dataset.ready = "yes";
