// The results page's chart: the mean score of each lesson (across), one bar per grade band,
// drawn as SVG (no library; the same way as the teacher console's histogram).

import { $ } from "./dom.js";
import { t } from "./i18n.js";

export const BANDS = ["perceive", "apply", "create"];
const W = 720, H = 300, LEFT = 40, BOTTOM = 64, TOP = 14, RIGHT = 10;
const NS = "http://www.w3.org/2000/svg";

function part(parent, tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  parent.append(el);
  return el;
}

const bandOf = (b) => (BANDS.includes(b) ? b : "other");

// rows: [{lesson_id, grade_band, results, schools, students, mean_score}]; title(id) names a lesson.
export function drawBands(rows, title) {
  const lessons = [...new Set(rows.map((r) => r.lesson_id))];
  const bands = [...new Set(rows.map((r) => bandOf(r.grade_band)))]
    .sort((a, b) => BANDS.indexOf(a) - BANDS.indexOf(b));
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("results.chartLabel", { lessons: lessons.length, results: rows.reduce((a, r) => a + r.results, 0) }));
  svg.id = "band-chart";
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  for (let v = 0; v <= 100; v += 25) {
    const y = TOP + plotH - (plotH * v) / 100;
    part(svg, "line", { x1: LEFT, x2: W - RIGHT, y1: y, y2: y, class: "grid" });
    part(svg, "text", { x: LEFT - 6, y: y + 4, class: "tick", "text-anchor": "end" }, String(v));
  }
  const group = plotW / Math.max(1, lessons.length);
  const bw = Math.min(48, (group - 12) / Math.max(1, bands.length));
  lessons.forEach((id, i) => {
    const x0 = LEFT + i * group + (group - bw * bands.length) / 2;
    bands.forEach((band, j) => {
      const row = rows.find((r) => r.lesson_id === id && bandOf(r.grade_band) === band);
      if (!row || typeof row.mean_score !== "number") return;
      const height = (plotH * Math.max(0, Math.min(100, row.mean_score))) / 100;
      const x = x0 + j * bw, y = TOP + plotH - height;
      const bar = part(svg, "rect", { x: x + 1, y, width: bw - 2, height: Math.max(height, 2),
        class: `bar bar-${band}`, "data-lesson": id, "data-band": band, "data-results": row.results });
      part(bar, "title", {}, t("results.barTitle", { lesson: title(id), band: t(`band.${band}`),
        mean: Math.round(row.mean_score), n: row.results, schools: row.schools }));
      part(svg, "text", { x: x + bw / 2, y: y - 3, class: "count", "text-anchor": "middle" }, String(Math.round(row.mean_score)));
    });
    const name = title(id);
    part(svg, "text", { x: LEFT + i * group + group / 2, y: H - BOTTOM + 16, class: "label", "text-anchor": "middle" },
      name.length > 18 ? `${name.slice(0, 17)}…` : name);
  });
  part(svg, "line", { x1: LEFT, x2: W - RIGHT, y1: TOP + plotH, y2: TOP + plotH, class: "axis" });
  part(svg, "text", { x: 12, y: TOP + plotH / 2, class: "label", "text-anchor": "middle",
    transform: `rotate(-90 12 ${TOP + plotH / 2})` }, t("results.axis"));
  $("#chart").replaceChildren(svg);
  $("#chart-legend").replaceChildren(...bands.map((b) => {
    const el = document.createElement("span");
    el.className = `l-${b}`;
    el.textContent = t(`band.${b}`);
    return el;
  }));
}
