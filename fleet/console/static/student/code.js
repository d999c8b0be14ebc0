// The student's code and its autosave: the editor's text goes to the console a moment
// after the student stops typing (a new version after two quiet minutes, kept there).

import { $ } from "../dom.js";
import { api } from "./api.js";
import { lang, t } from "./i18n.js";

const SAVE_AFTER_MS = 1500;

export const work = {
  me: null, // the signed-in student (/student/me)
  lesson: null, // the lesson's view (/student/lesson)
  lessons: [], // every lesson the student may open
  editor: null,
};

let saveTimer = 0;
let savedAt = null;

// A new lesson in the editor: nothing saved yet.
export function forgetSaved() {
  savedAt = null;
}

export const clock = (ts) => new Date(ts * 1000).toLocaleTimeString(lang.now === "zh" ? "zh-CN" : "en",
  { hour: "2-digit", minute: "2-digit" });

export function showSaved() {
  $("#saved").textContent = savedAt ? t("saved", { when: clock(savedAt) }) : "";
}

async function save() {
  clearTimeout(saveTimer);
  saveTimer = 0;
  const code = work.editor.getDoc();
  try {
    const state = work.editor.getState ? work.editor.getState() : null;
    const blocks = state ? JSON.stringify(state) : null;
    const saved = await api("PUT", "/student/code", { lesson_id: work.lesson.id, code, blocks });
    savedAt = saved.saved;
    showSaved();
  } catch (error) {
    $("#saved").textContent = t("save.failed", { msg: error.message });
  }
}

// Save now if a save is waiting (before running or handing in).
export async function saveNow() {
  if (saveTimer) await save();
}

export function changedCode() {
  $("#saved").textContent = t("saving");
  clearTimeout(saveTimer);
  saveTimer = setTimeout(save, SAVE_AFTER_MS);
}
