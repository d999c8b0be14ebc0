// The district on the Lessons page: its library (import a lesson), its open challenges (open
// one in this school's class periods with the console's challenge mode) and sharing one of
// the teacher's own lessons up for review. The district is asked only here, when the page
// opens; when it cannot be reached the panel says so and the rest of the console works on.

import { api, fail } from "./api.js";
import { $, h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

let view = null; // the last answer of /districtlib
let loading = false;
// What lessons.js lends: its challenge mode and drawing the lesson list again.
let hooks = { startChallenge: () => {}, redraw: () => {} };

export function wireDistrict(given) { hooks = given; }

// The lessons imported from the district, as the Lessons page lists lessons.
export async function loadImported() {
  try { return await api("GET", "/districtlib/imported"); } catch (error) { return []; }
}

// Ask the district again (the page opened, a retry, after an import).
export async function loadDistrict() {
  if (loading) return;
  loading = true;
  try { view = await api("GET", "/districtlib"); } catch (error) { fail(error); view = null; }
  loading = false;
  renderDistrict();
}

// The district's lessons this console has now, in the page's lesson list (and the class
// page's lesson choices), then the panel again.
async function refreshLibrary() {
  const imported = await loadImported();
  const builtin = (state.library || []).filter((l) => !l.district);
  state.library = [...builtin, ...imported];
  hooks.redraw();
  await loadDistrict();
}

async function importLesson(entry) {
  try {
    await api("POST", "/districtlib/import", { sha256: entry.sha256 });
    toast(t("district.imported", { lesson: entry.title[state.lang] }), "good");
  } catch (error) { fail(error); return; }
  await refreshLibrary();
}

async function openChallenge(c) {
  try {
    await api("POST", `/districtlib/challenges/${c.id}/open`);
  } catch (error) { fail(error); return; }
  await refreshLibrary();
  const lesson = (state.library || []).find((l) => l.id === c.lesson.lesson_id);
  if (lesson) hooks.startChallenge(lesson);
}

async function share() {
  const lessonId = $("#district-share-pick").value;
  if (!lessonId) return;
  try {
    await api("POST", "/districtlib/share", { lesson_id: lessonId, note: $("#district-share-note").value });
    toast(t("district.shared", { lesson: lessonId }), "good", 6000);
    $("#district-share-note").value = "";
  } catch (error) { fail(error); }
  loadDistrict();
}

function entryItem(e) {
  let action;
  if (e.imported) action = h("span", { class: "good" }, t("district.isImported"));
  else {
    action = h("button", { type: "button", class: "import", onclick: () => importLesson(e) },
      e.older ? t("district.update") : t("district.import"));
  }
  return h("li", { class: "district-item", dataset: { lesson: e.lesson_id } },
    h("span", {}, h("strong", {}, e.title[state.lang]), " ",
      h("span", { class: `band b-${e.band}` }, t(`band.${e.band}`)),
      h("span", { class: "muted" }, ` · ${e.origin === "district" ? t("district.fromDistrict") : t("district.fromSchool", { school: e.origin })}`)),
    action);
}

function challengeItem(c) {
  const until = new Date(c.ends * 1000).toLocaleString(state.lang === "zh" ? "zh-CN" : "en", { dateStyle: "short", timeStyle: "short" });
  return h("li", { class: "district-item", dataset: { challenge: c.id } },
    h("span", {}, h("strong", {}, c.title[state.lang]),
      h("span", { class: "muted" }, ` · ${t("district.until", { metric: c.rule.metric, until })}`)),
    h("button", { type: "button", class: "challenge", onclick: () => openChallenge(c) },
      c.opened ? t("district.openAgain") : t("district.openChallenge")));
}

export function renderDistrict() {
  const box = $("#district-lib");
  if (!box || state.page !== "lessons") return;
  box.hidden = !view || !view.configured;
  if (box.hidden) return;
  const head = h("div", { class: "page-head" },
    h("h2", { id: "district-title" }, t("district.title")),
    h("p", { class: "muted" }, t("district.school", { school: view.school })),
    h("button", { type: "button", class: "retry", onclick: () => loadDistrict() }, t("district.refresh")));
  if (!view.reachable) {
    box.replaceChildren(head, h("p", { class: "warn-line", role: "status", id: "district-offline" },
      t("district.offline"), " ", view.error[state.lang]));
    return;
  }
  const own = view.own || [];
  box.replaceChildren(head,
    h("p", { class: "muted" }, t("district.key", { kid: view.kid }),
      view.refused ? ` ${t("district.refused", { n: view.refused })}` : ""),
    h("h3", {}, t("district.challenges")),
    h("ul", { class: "district-list", id: "district-challenges" }, view.challenges.length
      ? view.challenges.map(challengeItem) : h("li", { class: "muted" }, t("district.noChallenges"))),
    h("h3", {}, t("district.lessons")),
    h("ul", { class: "district-list", id: "district-lessons" }, view.lessons.length
      ? view.lessons.map(entryItem) : h("li", { class: "muted" }, t("district.noLessons"))),
    h("h3", {}, t("district.share")),
    own.length ? h("div", { class: "toolbar" },
      h("label", { for: "district-share-pick" }, t("district.shareLesson")),
      h("select", { id: "district-share-pick" }, own.map((id) => h("option", { value: id }, id))),
      h("label", { for: "district-share-note" }, t("district.shareNote")),
      h("input", { id: "district-share-note", maxlength: "500" }),
      h("button", { type: "button", id: "district-share-go", onclick: share }, t("district.shareGo")))
      : h("p", { class: "muted" }, t("district.noOwn")));
}
