// The lessons: the built-in library (and lessons imported from the district, districtlib.js)
// by band, pushing a lesson to the selected robots or to all, and starting a challenge
// (then its live leaderboard).

import { api, fail } from "./api.js";
import { loadDistrict, loadImported, renderDistrict, wireDistrict } from "./districtlib.js";
import { $, changed, h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { loadResults } from "./results.js";
import { state } from "./store.js";

const BANDS = ["", "perceive", "apply", "create"];

// Fetch the library once. Resolves true when it has just come (the pages that
// name lessons should be drawn again).
export async function loadLibrary() {
  if (state.library) { renderLessons(); loadDistrict(); return false; }
  try {
    state.library = [...await api("GET", "/library"), ...await loadImported()];
    loadDistrict();
    return true;
  } catch (error) { fail(error); }
  return false;
}

function lessonCard(l, n) {
  const other = state.lang === "zh" ? "en" : "zh";
  return h("article", { class: "lesson panel", dataset: { lesson: l.id } },
    h("div", { class: "lesson-head" },
      h("h2", { id: `lesson-${l.id}` }, l.title[state.lang]),
      h("span", { class: `band b-${l.band}` }, t(`band.${l.band}`)),
      l.blocks ? h("span", { class: "band blocks-badge", title: t("lessons.blocksHint") }, t("lessons.blocks")) : null,
      l.district ? h("span", { class: "band district-badge" }, t("district.badge")) : null),
    h("p", { class: "other-title", lang: other === "zh" ? "zh-CN" : "en" }, l.title[other]),
    h("p", {}, l.summary[state.lang]),
    h("p", { class: "muted" }, t("lessons.meta", { from: l.grades[0], to: l.grades[1], minutes: l.minutes }),
      l.topics.length ? ` · ${l.topics.join(", ")}` : "",
      l.challenge ? ` · ${t("lessons.challenge", { metric: l.challenge.metric })}` : ""),
    h("details", {},
      h("summary", {}, t("lessons.steps", { n: l.steps.length })),
      h("ol", {}, l.steps.map((s) => h("li", {}, h("strong", {}, s.title[state.lang]), h("p", {}, s.body[state.lang]))))),
    h("div", { class: "actions" },
      h("button", {
        type: "button", class: "push-selected", disabled: n === 0,
        "aria-describedby": `lesson-${l.id}`, onclick: () => push(l, [...state.selected]),
      }, t("lessons.pushSelected", { n })),
      h("button", {
        type: "button", class: "primary push-all", "aria-describedby": `lesson-${l.id}`,
        onclick: () => push(l, null),
      }, t("lessons.pushAll")),
      l.challenge ? h("button", {
        type: "button", class: "challenge", "aria-describedby": `lesson-${l.id}`,
        onclick: () => startChallenge(l),
      }, t("lessons.startChallenge")) : null));
}

export function renderLessons() {
  if (state.page !== "lessons") return;
  const n = state.selected.size;
  if (!changed("lessons", state.band, n, state.library && state.library.length)) return;
  $("#bands").replaceChildren(...BANDS.map((band) => h("button", {
    type: "button", "aria-pressed": String(state.band === band),
    onclick: () => { state.band = band; renderLessons(); $(`#bands button:nth-child(${BANDS.indexOf(band) + 1})`).focus(); },
  }, band ? t(`band.${band}`) : t("lessons.all"))));
  $("#lessons-target").textContent = n ? t("lessons.target", { n }) : t("lessons.noTarget");
  if (!state.library) return;
  const shown = state.library.filter((l) => !state.band || l.band === state.band);
  const list = shown.map((l) => lessonCard(l, n));
  $("#lesson-list").replaceChildren(...(list.length ? list : [h("p", { class: "empty" }, t("lessons.empty"))]));
  renderDistrict();
}

async function push(lesson, devices) {
  try {
    // a lesson from the district is pushed by its bundle's sha256 (it is not built in)
    const body = lesson.sha256 ? { lesson: lesson.sha256, lesson_id: lesson.id } : { lesson: lesson.id };
    if (devices) body.devices = devices;
    const answer = await api("POST", "/push", body);
    toast(t("lessons.pushed", { lesson: lesson.title[state.lang], n: answer.jobs.length }), "good");
  } catch (error) { fail(error); }
}

// Challenge mode: the lesson goes to every open class period, the students write and hand
// in their own programs, and the leaderboard ranks those hand-ins (never a starter).
async function startChallenge(lesson) {
  try {
    const periods = await api("GET", "/periods");
    if (!periods.length) {
      toast(t("lessons.challengeNoPeriod"), "bad", 8000);
      location.hash = "#class";
      return;
    }
    for (const period of periods) {
      await api("PUT", `/periods/${period.id}/lesson`, { lesson_id: lesson.id });
    }
    toast(t("lessons.challengeStarted", { lesson: lesson.title[state.lang], n: periods.length }), "good");
  } catch (error) { fail(error); return; }
  location.hash = "#results";
  $("#filter-lesson").value = lesson.id;
  loadResults();
}

wireDistrict({ startChallenge, redraw: renderLessons });
