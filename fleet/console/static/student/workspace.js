// The workspace: the lesson's steps, the student's code in the editor (autosaved on
// the console, with earlier versions to restore), running it and handing it in.

import { $, h, toast } from "../dom.js";
import { createEditor } from "../vendor/editor.js";
import { api } from "./api.js";
import { chooseMode, createBlockEditor, wantsBlocks } from "./blocks.js";
import { changedCode, clock, forgetSaved, saveNow, showSaved, work } from "./code.js";
import { handIn, showPortfolio } from "./handin.js";
import { lang, pick, t } from "./i18n.js";
import { setupRuns } from "./run.js";
import { relabelTeach, setupTeach } from "./teach.js";
import { richText } from "./text.js";

const FONT = { min: 14, max: 32, step: 2, start: 20 };

function fontSize() {
  const saved = Number(localStorage.getItem("rc-font"));
  return saved >= FONT.min && saved <= FONT.max ? saved : FONT.start;
}

function setFont(delta) {
  const size = Math.min(FONT.max, Math.max(FONT.min, fontSize() + delta));
  localStorage.setItem("rc-font", String(size));
  work.editor.setFontSize(size);
}

function showWho() {
  const me = work.me;
  const robot = me.device ? t("who.robot", { device: me.device }) : t("who.norobot");
  $("#who").textContent = `${t("who", { name: me.name, roster: me.roster })} · ${robot}`;
  $("#who").hidden = false;
  $("#run-robot").disabled = !me.device;
  $("#run-robot").title = me.device ? "" : t("run.norobot");
  // the teacher turned the class's camera off: no camera to ask for (the console refuses it too)
  const camera = $("#want-camera");
  camera.closest("label").hidden = me.camera_panel === false;
  if (me.camera_panel === false) camera.checked = false;
  $("#teach-open").hidden = me.camera_panel === false; // teaching needs the robot's camera
}

function showSteps() {
  const lesson = work.lesson;
  $("#lesson-title").textContent = pick(lesson.title);
  $("#steps").replaceChildren(...lesson.steps.map((s, i) => h("li", {
    onclick: (e) => pickStep(i, e.currentTarget),
  }, h("h2", {}, pick(s.title)), h("p", {}, richText(pick(s.body))))));
  $("#lesson-pick").replaceChildren(...work.lessons.map((l) => h("option",
    { value: l.id, selected: l.id === lesson.id }, pick(l.title))));
}

async function showHistory() {
  const versions = await api("GET", `/student/code/history?lesson_id=${work.lesson.id}`);
  const list = $("#history-list");
  if (!versions.length) {
    list.replaceChildren(h("li", { class: "muted" }, t("history.none")));
    return;
  }
  list.replaceChildren(...versions.map((v) => h("li", {},
    t("history.item", { version: v.version, when: clock(v.saved), lines: v.lines }), " ",
    h("button", { type: "button", class: "plain small", onclick: () => restore(v.version) },
      t("history.restore")))));
}

async function restore(version) {
  const found = await api("GET", `/student/code/${version}?lesson_id=${work.lesson.id}`);
  work.editor.setDoc(found.code);
  changedCode();
  toast(t("history.restored", { version }), "good");
}

async function openLesson(lessonId) {
  const query = lessonId ? `?lesson_id=${encodeURIComponent(lessonId)}` : "";
  work.lesson = await api("GET", `/student/lesson${query}`);
  forgetSaved();
  showSaved();
  showSteps();
  if (work.editor) work.editor.destroy();
  work.editor = wantsBlocks(work.lesson)
    ? createBlockEditor($("#editor"), { fontSize: fontSize(), onLeave: continueInPython })
    : textEditor(work.lesson.code);
  showMode();
  $("#explain").hidden = true;
  $("#grade").hidden = true;
  $("#history").open = false;
  showPortfolio();
}

function textEditor(doc) {
  return createEditor($("#editor"), {
    doc, fontSize: fontSize(), completions: work.lesson.completions || null,
    onChange: changedCode, lang: lang.now,
  });
}

// Blocks or Python: the switch shows what the student can change to.
function showMode() {
  const blocks = Boolean(work.editor.blocks);
  $("#work").classList.toggle("blocks-mode", blocks);
  $("#to-python").hidden = !blocks;
  $("#to-blocks").hidden = blocks || !work.lesson.blocks;
}

// From blocks to Python: the blocks' Python goes on in the text editor (one way).
function continueInPython(text) {
  chooseMode(false);
  work.editor.destroy();
  work.editor = textEditor(text);
  changedCode();
  showMode();
}

function backToBlocks() {
  if (!confirm(t("blocks.use.ask"))) return;
  chooseMode(true);
  work.editor.destroy();
  work.editor = createBlockEditor($("#editor"), { fontSize: fontSize(), onLeave: continueInPython });
  changedCode();
  showMode();
}

function pickStep(i, item) {
  if (!work.editor.pickStep) return;
  for (const li of $("#steps").children) li.classList.toggle("picked", li === item);
  work.editor.pickStep(i);
}

// Open the workspace for the signed-in student.
export async function openWorkspace(me) {
  work.me = me;
  showWho();
  work.lessons = await api("GET", "/student/lessons");
  $("#work").hidden = false;
  $("#lesson-pick").onchange = async (e) => { await saveNow(); openLesson(e.target.value); };
  $("#font-down").onclick = () => setFont(-FONT.step);
  $("#font-up").onclick = () => setFont(FONT.step);
  $("#history").ontoggle = () => { if ($("#history").open) showHistory(); };
  $("#reset").onclick = () => {
    if (!confirm(t("code.reset.ask"))) return;
    if (work.editor.reset) work.editor.reset(); // blocks: the lesson's block starter
    else work.editor.setDoc(work.lesson.starter);
    changedCode();
  };
  $("#to-python").onclick = () => {
    if (confirm(t("blocks.toPython.ask"))) continueInPython(work.editor.getDoc());
  };
  $("#to-blocks").onclick = backToBlocks;
  $("#handin").onclick = () => handIn();
  setupRuns();
  setupTeach();
  try {
    await openLesson(me.lesson_id || null);
  } catch (error) {
    if (error.status !== 404 || !work.lessons.length) throw error;
    toast(t("lesson.none"));
    await openLesson(work.lessons[0].id);
  }
}

// The language changed: redraw what the page wrote in the old one.
export function relabel() {
  if (!work.lesson) return;
  showWho();
  showSteps();
  if (work.editor && work.editor.blocks) { // the blocks' words: made again in the new language
    work.editor.destroy();
    work.editor = createBlockEditor($("#editor"), { fontSize: fontSize(), onLeave: continueInPython });
  }
  showSaved();
  showPortfolio();
  relabelTeach();
}
