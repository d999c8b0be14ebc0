// Running the student's program: in the simulator on the console or on their own robot.
// The console streams what happens (Server-Sent Events, to this student only): the
// world once, then the robot's pose and sensors, what the program prints, the camera
// when asked, and the end. The top-down view is drawn here from poses.

import { $, h } from "../dom.js";
import { api, readEvents } from "./api.js";
import { pick, t } from "./i18n.js";
import { richText } from "./text.js";
import { saveNow, work } from "./code.js";

const MAX_OUTPUT_LINES = 500;
const TRAIL = 600;

const run = {
  id: null,
  abort: null,
  world: null,
  pose: null,
  trail: [],
  drawing: false,
};

function status(text) {
  $("#run-status").textContent = text;
}

function busy(on) {
  $("#run-sim").disabled = on;
  $("#run-robot").disabled = on || !work.me.device;
  $("#stop").disabled = !on;
}

function print(stream, line) {
  const out = $("#output");
  out.append(h("span", { class: stream === "stderr" ? "err" : null }, `${line}\n`));
  while (out.childNodes.length > MAX_OUTPUT_LINES) out.firstChild.remove();
  out.scrollTop = out.scrollHeight;
}

// ---- the top-down view -------------------------------------------------------

function scaleOf(canvas, world) {
  const pad = 10;
  const s = Math.min((canvas.width - 2 * pad) / world.width, (canvas.height - 2 * pad) / world.height);
  return { s, ox: pad, oy: pad, w: world.width, hgt: world.height };
}

function drawShape(ctx, map, shape, style) {
  const pts = shape.points || [];
  if (!pts.length) return;
  ctx.beginPath();
  pts.forEach(([x, y], i) => {
    const px = map.ox + x * map.s;
    const py = map.oy + (map.hgt - y) * map.s;
    if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
  });
  if (shape.closed) ctx.closePath();
  if (style.fill && shape.closed) { ctx.fillStyle = shape.colour || style.fill; ctx.fill(); }
  if (style.stroke) {
    ctx.strokeStyle = shape.colour || style.stroke;
    ctx.lineWidth = Math.max(1, (shape.width || style.width || 0.01) * map.s);
    ctx.stroke();
  }
}

function draw() {
  run.drawing = false;
  const canvas = $("#view");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f7f5ef";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const world = run.world;
  if (!world) return;
  const map = scaleOf(canvas, world);
  ctx.fillStyle = world.floor || "#ffffff";
  ctx.fillRect(map.ox, map.oy, world.width * map.s, world.height * map.s);
  for (const zone of world.zones || []) drawShape(ctx, map, { ...zone, closed: true }, { fill: "#cfe8d5" });
  for (const line of world.lines || []) drawShape(ctx, map, line, { stroke: "#111", width: 0.02 });
  for (const box of world.obstacles || []) drawShape(ctx, map, { ...box, closed: true }, { fill: "#8a6d52", stroke: "#4d3b2b" });
  for (const sign of [...(world.signs || []), ...(world.markers || [])]) {
    const [x, y] = sign.at || [0, 0];
    ctx.fillStyle = sign.colour || "#c0392b";
    ctx.fillRect(map.ox + x * map.s - 4, map.oy + (map.hgt - y) * map.s - 4, 8, 8);
  }
  if (run.trail.length > 1) {
    drawShape(ctx, map, { points: run.trail }, { stroke: "rgba(31,95,191,.55)", width: 0.01 });
  }
  const pose = run.pose;
  if (!pose) return;
  const px = map.ox + pose.x * map.s;
  const py = map.oy + (map.hgt - pose.y) * map.s;
  const r = Math.max(6, (world.robot_radius || 0.08) * map.s);
  const a = -(pose.heading || 0); // the canvas's y grows downwards
  ctx.save();
  ctx.translate(px, py);
  ctx.rotate(a);
  ctx.fillStyle = "#1f5fbf";
  ctx.beginPath();
  ctx.arc(0, 0, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#ffbf47";
  ctx.beginPath();
  ctx.moveTo(r, 0);
  ctx.lineTo(r * 0.2, -r * 0.55);
  ctx.lineTo(r * 0.2, r * 0.55);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}

function redraw() {
  if (run.drawing) return;
  run.drawing = true;
  requestAnimationFrame(draw);
}

function showSensors(values) {
  const rows = Object.entries(values || {});
  $("#sensors").hidden = !rows.length;
  $("#sensors tbody").replaceChildren(...rows.map(([name, value]) => h("tr", {},
    h("th", { scope: "row" }, name),
    h("td", {}, typeof value === "number" ? value.toFixed(2)
      : Array.isArray(value) ? value.map((v) => (typeof v === "number" ? v.toFixed(2) : v)).join("  ")
        : String(value)))));
}

// ---- errors a child understands ----------------------------------------------

// Show what went wrong, at the student's own line, with the line marked in the editor.
// The end of a lesson's time is no mistake: it is said quietly, in the status line.
export function showExplanation(explanation) {
  const box = $("#explain");
  if (!explanation || explanation.kind === "time-up") {
    box.hidden = true;
    if (explanation) status(pick(explanation.text));
    return;
  }
  const line = explanation.yours ? explanation.line : null;
  const raw = explanation.exception
    ? `${explanation.exception}: ${explanation.message || ""}` : explanation.message;
  box.replaceChildren(
    h("p", { class: "what" }, line ? h("strong", {}, `${t("explain.line", { line })}: `) : null,
      ...richText(pick(explanation.text))),
    explanation.code && line ? h("pre", { class: "where" }, explanation.code) : null,
    raw ? h("p", { class: "muted raw" }, raw) : null,
  );
  box.hidden = false;
  if (line) work.editor.markError(line, pick(explanation.text).replaceAll("`", ""));
}

// ---- one run -----------------------------------------------------------------

function onEvent(name, data) {
  if (name === "world") {
    run.world = data;
    redraw();
  } else if (name === "pose") {
    run.pose = data;
    run.trail.push([data.x, data.y]);
    if (run.trail.length > TRAIL) run.trail.shift();
    showSensors(data.sensors);
    redraw();
  } else if (name === "output") {
    print(data.stream, data.line);
  } else if (name === "camera") {
    const img = $("#camera");
    img.src = `data:image/jpeg;base64,${data.jpeg}`;
    img.hidden = false;
  } else if (name === "status") {
    status(data.status === "IN_PROGRESS" ? t("run.running") : t("run.queued"));
  } else if (name === "end") {
    const outcome = data.status ? t(`run.status.${String(data.status).toLowerCase()}`) : "";
    status(t("run.ended", { status: outcome }));
    showExplanation(data.explanation);
  }
}

async function start(place) {
  await saveNow();
  work.editor.clearErrors();
  showExplanation(null);
  $("#output").replaceChildren();
  $("#camera").hidden = true;
  run.trail = [];
  run.pose = null;
  busy(true);
  status(t("run.starting"));
  try {
    const started = await api("POST", "/student/runs", {
      lesson_id: work.lesson.id, code: work.editor.getDoc(), place,
      camera: $("#want-camera").checked,
    });
    run.id = started.run;
    run.abort = new AbortController();
    status(place === "robot" ? t("run.queued") : t("run.running"));
    await readEvents(`/api/v1/student/runs/${run.id}/events`, run.abort.signal, onEvent);
  } catch (error) {
    if (error.name !== "AbortError") status(t("error.generic", { msg: error.message }));
  } finally {
    busy(false);
  }
}

async function stop() {
  if (!run.id) return;
  await api("POST", `/student/runs/${run.id}/stop`).catch(() => {});
  status(t("run.stopped"));
}

// Wire the run buttons (once, when the workspace opens).
export function setupRuns() {
  $("#run-sim").onclick = () => start("sim");
  $("#run-robot").onclick = () => start("robot");
  $("#stop").onclick = stop;
  busy(false);
  draw();
}
