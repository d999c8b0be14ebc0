// District challenges: start one on a published lesson with a metric, the list, and the
// chosen one's leaderboard, live (its event stream): each student's best handed-in value,
// pseudonymous, with their school and class.

import { api, fail, follow } from "./api.js";
import { $, h, toast } from "./dom.js";
import { num, t, when } from "./i18n.js";
import { schoolName } from "./schools.js";
import { state } from "./store.js";

let stream = null;

export async function loadChallenges() {
  try { state.challenges = await api("GET", "/challenges"); } catch (error) { fail(error); }
  renderChallenges();
  if (!state.challenge && state.challenges.length) watch(state.challenges[0].id);
}

const isOpen = (c) => c.ends * 1000 > Date.now();

function fillLessons() {
  const ready = state.items.filter((i) => i.review === "published" && i.entry.challenge);
  const pick = $("#challenge-lesson");
  const was = pick.value;
  pick.replaceChildren(...(ready.length
    ? ready.map((i) => h("option", { value: i.entry.sha256 }, `${i.entry.title[state.lang]} · ${i.entry.challenge.metric}`))
    : [h("option", { value: "", disabled: true }, t("challenges.noLesson"))]));
  if (was) pick.value = was;
}

function drawBoard() {
  const box = $("#leaderboard");
  const b = state.board;
  box.hidden = !b;
  if (!b) return;
  const c = b.challenge;
  $("#leaderboard-title").textContent = t("challenges.board", { title: c.title[state.lang] });
  $("#leaderboard-meta").textContent = t("challenges.meta", {
    metric: c.rule.metric, better: t(`better.${c.rule.better}`), until: when(c.ends),
    state: isOpen(c) ? t("challenges.open") : t("challenges.ended"),
  });
  $("#challenge-end").hidden = !isOpen(c);
  const unit = c.rule.unit ? ` ${c.rule.unit}` : "";
  const head = h("tr", {}, ["challenges.rank", "challenges.student", "challenges.school", "challenges.class", "challenges.value", "challenges.tries"]
    .map((k) => h("th", { scope: "col", class: ["challenges.rank", "challenges.value", "challenges.tries"].includes(k) ? "num" : null }, t(k))));
  const rows = b.ranks.map((r) => h("tr", { class: `rank-${r.rank}`, dataset: { student: r.student_id, school: r.school } },
    h("td", { class: "num" }, r.rank),
    h("td", {}, h("code", {}, r.student_id)),
    h("td", {}, schoolName(r.school)),
    h("td", {}, `${r.room} · ${r.classroom}`),
    h("td", { class: "num" }, `${num(r.value)}${unit}`),
    h("td", { class: "num" }, r.tries)));
  $("#leaderboard-table").replaceChildren(h("thead", {}, head),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("challenges.noTries")))));
}

export function renderChallenges() {
  if (state.page !== "challenges") return;
  fillLessons();
  $("#challenge-list").replaceChildren(...(state.challenges.length
    ? state.challenges.map((c) => h("li", {}, h("button", {
      type: "button", "aria-pressed": String(c.id === state.challenge), dataset: { challenge: c.id },
      onclick: () => watch(c.id),
    }, h("span", {}, c.title[state.lang]), h("span", { class: `pill ${isOpen(c) ? "" : "off"}` },
      isOpen(c) ? t("challenges.open") : t("challenges.ended")))))
    : [h("li", { class: "muted" }, t("challenges.none"))]));
  drawBoard();
}

// Show one challenge's leaderboard and follow it live.
export function watch(id) {
  if (stream) stream.abort();
  state.challenge = id;
  state.board = null;
  stream = new AbortController();
  follow(`/challenges/${id}/events`, stream.signal, (name, data) => {
    if (name !== "leaderboard" || state.challenge !== id) return;
    state.board = data;
    drawBoard();
  }, () => {});
  renderChallenges();
}

export function leaveChallenges() {
  if (stream) stream.abort();
  stream = null;
}

export function wireChallenges() {
  $("#challenge-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const sha256 = $("#challenge-lesson").value;
    if (!sha256) { toast(t("challenges.noLesson"), "bad"); return; }
    try {
      const made = await api("POST", "/challenges", { sha256, hours: Number($("#challenge-hours").value) || 48 });
      toast(t("challenges.started", { title: made.title[state.lang] }), "good");
      state.challenge = "";
      await loadChallenges();
      watch(made.id);
    } catch (error) { fail(error); }
  });
  $("#challenge-end").addEventListener("click", async () => {
    try { await api("POST", `/challenges/${state.challenge}/end`); } catch (error) { fail(error); }
    loadChallenges();
  });
}
