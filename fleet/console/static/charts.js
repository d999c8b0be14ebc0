// The results page's pictures: the score histogram (SVG), the progress grid
// (students down, lessons across) and a challenge's leaderboard.

import { $, h } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

// Students down, lessons across, the best score in each cell (coloured by score).
export function drawProgress(results) {
  const order = new Map((state.library || []).map((l, i) => [l.id, i]));
  const lessons = [...new Set(results.map((r) => r.lesson_id).filter(Boolean))]
    .sort((a, b) => (order.get(a) ?? 999) - (order.get(b) ?? 999));
  const students = [...new Set(results.map((r) => r.student || r.device))].sort();
  const best = new Map();
  for (const r of results) {
    const key = `${r.student || r.device}\u0000${r.lesson_id}`;
    const cell = best.get(key) || { score: null, n: 0, passed: false };
    cell.n += 1;
    if (typeof r.score === "number" && (cell.score === null || r.score > cell.score)) cell.score = r.score;
    if (r.result && r.result.status === "passed") cell.passed = true;
    best.set(key, cell);
  }
  $("#progress").hidden = results.length === 0;
  $("#progress-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("col.student")),
      lessons.map((id) => h("th", { scope: "col" }, lessonTitle(id))))),
    h("tbody", {}, students.map((student) => h("tr", {},
      h("th", { scope: "row" }, student),
      lessons.map((id) => {
        const cell = best.get(`${student}\u0000${id}`);
        if (!cell) return h("td", { class: "heat none" }, t("card.none"));
        const band = cell.score === null ? "none" : `h${Math.min(4, Math.floor(cell.score / 20))}`;
        return h("td", {
          class: `heat ${band}`,
          title: t("results.progressCell", { student, lesson: lessonTitle(id), score: formatScore(cell.score), n: cell.n }),
        }, formatScore(cell.score), cell.passed ? " ✓" : "");
      })))));
}

// For a challenge lesson (the one the filter chose): each student's best value of its metric
// among their hand-ins (their own programs, graded; a pushed starter never counts), ranked.
export function drawLeaderboard(results, lessonId) {
  const box = $("#leaderboard");
  const lesson = (state.library || []).find((l) => l.id === lessonId);
  const challenge = lesson && lesson.challenge;
  box.hidden = !challenge;
  if (!challenge) return;
  const lower = challenge.better !== "higher";
  const best = new Map();
  for (const r of results) {
    const value = r.result && r.result.metrics && r.result.metrics[challenge.metric];
    if (r.lesson_id !== lesson.id || typeof value !== "number" || !(r.result.status === "passed")) continue;
    if (!r.handin) continue;
    const who = r.student || r.device;
    const old = best.get(who);
    if (old === undefined || (lower ? value < old : value > old)) best.set(who, value);
  }
  const ranked = [...best.entries()].sort((a, b) => (lower ? a[1] - b[1] : b[1] - a[1]));
  $("#leaderboard-title").textContent = t("results.leaderboard", { lesson: lesson.title[state.lang] });
  $("#leaderboard-metric").textContent = t("results.metric", { metric: challenge.metric, better: t(`better.${challenge.better}`) });
  $("#leaderboard-list").replaceChildren(
    ...(ranked.length
      ? ranked.map(([who, value]) => h("li", {}, h("strong", {}, who), ` ${Math.round(value * 100) / 100} ${challenge.unit || ""}`))
      : [h("li", { class: "muted none" }, t("card.none"))]));
}

const W = 420, H = 220, LEFT = 34, BOTTOM = 34, TOP = 12, RIGHT = 8;
const NS = "http://www.w3.org/2000/svg";

// An SVG element with its attributes (and text), appended to parent.
function svgPart(parent, tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  parent.append(el);
  return el;
}

function drawBars(svg, bins) {
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const peak = Math.max(1, ...bins);
  for (let i = 0; i <= 4; i += 1) { // grid lines with counts
    const value = Math.round((peak * i) / 4);
    const y = TOP + plotH - (plotH * value) / peak;
    svgPart(svg, "line", { x1: LEFT, x2: W - RIGHT, y1: y, y2: y, class: "grid" });
    svgPart(svg, "text", { x: LEFT - 6, y: y + 4, class: "tick", "text-anchor": "end" }, String(value));
  }
  const bw = plotW / 10;
  bins.forEach((count, i) => {
    const height = (plotH * count) / peak;
    const x = LEFT + i * bw + 3;
    const y = TOP + plotH - height;
    const bar = svgPart(svg, "rect", {
      x, y, width: bw - 6, height: Math.max(height, count ? 2 : 0),
      class: i >= 6 ? "bar pass" : "bar", "data-count": count,
    });
    svgPart(bar, "title", {}, `${i * 10}–${i === 9 ? 100 : i * 10 + 9}: ${count}`);
    if (count) svgPart(svg, "text", { x: x + (bw - 6) / 2, y: y - 3, class: "count", "text-anchor": "middle" }, String(count));
    svgPart(svg, "text", { x: LEFT + i * bw + bw / 2, y: H - BOTTOM + 15, class: "tick", "text-anchor": "middle" }, String(i * 10));
  });
  svgPart(svg, "line", { x1: LEFT, x2: W - RIGHT, y1: TOP + plotH, y2: TOP + plotH, class: "axis" });
  svgPart(svg, "text", { x: LEFT + plotW / 2, y: H - 4, class: "label", "text-anchor": "middle" }, t("results.axisScore"));
}

// A histogram of scores in ten bands (0-9 ... 90-100), drawn as SVG.
export function drawChart(results) {
  const scores = results.map((r) => r.score).filter((s) => typeof s === "number");
  const bins = new Array(10).fill(0);
  for (const s of scores) bins[Math.min(9, Math.max(0, Math.floor(s / 10)))] += 1;
  const mean = scores.length ? (scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(0) : "—";
  const passed = results.filter((r) => r.result && r.result.status === "passed").length;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("results.chartLabel", { n: scores.length, mean }));
  svg.id = "score-chart";
  drawBars(svg, bins);
  $("#chart").replaceChildren(svg);
  $("#stats").textContent = t("results.stats", { n: scores.length, mean, passed });
}
