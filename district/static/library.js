// The lesson library: publish a lesson bundle, review what schools shared (approve or
// refuse), and what is published. Every published lesson is signed by the district's key.

import { api, fail } from "./api.js";
import { $, h, toast } from "./dom.js";
import { t, when } from "./i18n.js";
import { schoolName } from "./schools.js";
import { state } from "./store.js";

// A lesson's title in the page's language (built-in lessons and the library's; its id when
// unknown).
export function lessonTitle(id) {
  const found = state.titles[id];
  return found ? found[state.lang] : id;
}

export async function loadLibrary() {
  try {
    const [items, key, titles] = await Promise.all([
      api("GET", "/library/items"), api("GET", "/library/key"), api("GET", "/lesson-titles")]);
    state.items = items;
    state.titles = titles;
    $("#library-key").textContent = t("library.key", { kid: key.kid });
  } catch (error) { fail(error); }
  renderLibrary();
}

async function decide(item, how) {
  const body = how === "refuse" ? { reason: prompt(t("library.why")) || "" } : undefined;
  try {
    await api("POST", `/library/items/${item.entry.sha256}/${how}`, body);
    toast(t(`library.${how}d`, { lesson: item.entry.title[state.lang] }), "good");
  } catch (error) { fail(error); }
  loadLibrary();
}

function card(item) {
  const e = item.entry;
  const other = state.lang === "zh" ? "en" : "zh";
  const waiting = item.review === "waiting";
  return h("article", { class: "card", dataset: { lesson: e.lesson_id, sha256: e.sha256 } },
    h("h3", {}, e.title[state.lang], " ", h("span", { class: `band b-${e.band}` }, t(`band.${e.band}`))),
    h("p", { class: "muted", lang: other === "zh" ? "zh-CN" : "en" }, e.title[other]),
    h("p", {}, e.summary[state.lang]),
    h("dl", {},
      h("dt", {}, t("library.from")), h("dd", {}, e.origin === "district" ? t("library.district") : schoolName(e.origin)),
      h("dt", {}, t("library.grades")), h("dd", {}, t("library.gradesMinutes", { from: e.grades[0], to: e.grades[1], minutes: e.minutes })),
      e.challenge ? h("dt", {}, t("library.metric")) : null,
      e.challenge ? h("dd", {}, `${e.challenge.metric} (${t(`better.${e.challenge.better}`)})`) : null,
      h("dt", {}, "sha256"), h("dd", { class: "muted", title: e.sha256 }, e.sha256.slice(0, 16)),
      item.note ? h("dt", {}, t("library.note")) : null, item.note ? h("dd", {}, item.note) : null,
      h("dt", {}, waiting ? t("library.submitted") : t("library.decided")),
      h("dd", {}, when(waiting ? item.submitted : item.decided), item.decided_by ? ` · ${item.decided_by}` : "")),
    waiting ? h("div", { class: "actions" },
      h("a", { href: `/api/v1/library/items/${e.sha256}/bundle`, download: `${e.lesson_id}.tar.gz` }, t("library.download")),
      h("button", { type: "button", class: "primary small approve", onclick: () => decide(item, "approve") }, t("library.approve")),
      h("button", { type: "button", class: "danger-outline small", onclick: () => decide(item, "refuse") }, t("library.refuse"))) : null);
}

export function renderLibrary() {
  if (state.page !== "library") return;
  const waiting = state.items.filter((i) => i.review === "waiting");
  const published = state.items.filter((i) => i.review === "published");
  $("#review-list").replaceChildren(...(waiting.length ? waiting.map(card) : [h("p", { class: "empty" }, t("library.noneWaiting"))]));
  $("#published-list").replaceChildren(...(published.length ? published.map(card) : [h("p", { class: "empty" }, t("library.nonePublished"))]));
}

export function wireLibrary() {
  $("#publish-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("#publish-file").files[0];
    if (!file) { toast(t("library.pickFile"), "bad"); return; }
    try {
      const entry = await api("POST", "/library/publish", await file.arrayBuffer(), "application/gzip");
      toast(t("library.published1", { lesson: entry.title[state.lang] }), "good");
      $("#publish-file").value = "";
    } catch (error) { fail(error); }
    loadLibrary();
  });
}
