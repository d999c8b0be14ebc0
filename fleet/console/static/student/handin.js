// Handing in: the lesson's grader scores the program (in the simulator on the console,
// or on the student's robot, as the lesson says); the score, what was checked and the
// feedback show here, and the console keeps the exact code with the result.

import { $, h, toast } from "../dom.js";
import { api } from "./api.js";
import { lang, pick, t } from "./i18n.js";
import { saveNow, work } from "./code.js";
import { showExplanation } from "./run.js";

const POLL_MS = 2000;

function showGrade(handin) {
  const result = handin.result || {};
  const box = $("#grade");
  const passed = result.status === "passed";
  const rubric = (result.rubric || []).map((item) => h("li", { class: item.passed ? "ok" : "no" },
    item.passed ? "✓ " : "✗ ", pick(item.title)));
  const feedback = pick(result.feedback);
  box.replaceChildren(
    h("p", { class: "score" }, t("handin.score", { score: Math.round(handin.score ?? 0) })),
    h("p", { class: passed ? "good" : "notyet" },
      passed ? t("handin.passed") : t("handin.notyet", { pass: work.lesson.pass_score })),
    rubric.length ? h("details", { open: true }, h("summary", {}, t("rubric")), h("ul", {}, rubric)) : null,
    feedback ? h("p", { class: "feedback" }, h("strong", {}, `${t("feedback")}: `), feedback) : null,
  );
  box.hidden = false;
  if (result.explanation) showExplanation(result.explanation);
}

async function waitForGrade(handin) {
  let found = handin;
  while (found.status === null) {
    await new Promise((done) => setTimeout(done, POLL_MS));
    found = await api("GET", `/student/handins/${handin.id}`);
  }
  showGrade(found);
  showPortfolio();
}

// Hand in what is in the editor now.
export async function handIn() {
  if (!confirm(t("handin.ask"))) return;
  const button = $("#handin");
  button.disabled = true;
  $("#grade").hidden = false;
  $("#grade").replaceChildren(h("p", { class: "muted" }, t("handin.grading")));
  try {
    await saveNow();
    const handin = await api("POST", "/student/handins",
      { lesson_id: work.lesson.id, code: work.editor.getDoc() });
    if (handin.status === null) {
      $("#grade").replaceChildren(h("p", {}, t("handin.sent")));
      await waitForGrade(handin);
    } else {
      showGrade(handin);
      showPortfolio();
    }
  } catch (error) {
    $("#grade").hidden = true;
    toast(t("error.generic", { msg: error.message }), "bad", 8000);
  } finally {
    button.disabled = false;
  }
}

// The student's hand-ins across lessons: the best score of each, newest first.
export async function showPortfolio() {
  const handins = await api("GET", "/student/handins").catch(() => []);
  const best = new Map();
  for (const one of handins) {
    const kept = best.get(one.lesson_id);
    if (!kept || (one.score ?? -1) > (kept.score ?? -1)) best.set(one.lesson_id, one);
  }
  const title = (id) => pick((work.lessons.find((l) => l.id === id) || {}).title) || id;
  const when = (ts) => new Date(ts * 1000).toLocaleString(lang.now === "zh" ? "zh-CN" : "en");
  $("#portfolio").replaceChildren(best.size
    ? h("ul", { class: "portfolio" }, [...best.values()].map((one) => h("li", {},
      h("strong", {}, title(one.lesson_id)), " · ",
      one.score === null ? "…" : t("mywork.best", { score: Math.round(one.score) }),
      h("span", { class: "muted" }, ` · ${when(one.created)}`),
      h("details", {}, h("summary", {}, "</>"), h("pre", { class: "code-small" }, one.code)))))
    : h("p", { class: "muted" }, t("mywork.none")));
}
