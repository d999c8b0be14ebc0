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
  stoppedByMe: false, // the student pressed Stop (not the teacher's STOP ALL)
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
// The world event gives the floor in metres (x east, y north, from the corner); poses
// give x, y and the heading in degrees, counter-clockwise from east.

function mapOf(canvas, world) {
  const [w, hgt] = world.size;
  const pad = 8;
  const s = Math.min((canvas.width - 2 * pad) / w, (canvas.height - 2 * pad) / hgt);
  const ox = (canvas.width - w * s) / 2;
  const oy = (canvas.height - hgt * s) / 2;
  return { s, x: (x) => ox + x * s, y: (y) => oy + (hgt - y) * s, w, hgt, ox, oy };
}

function path(ctx, map, points, closed) {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i ? ctx.lineTo(map.x(x), map.y(y)) : ctx.moveTo(map.x(x), map.y(y))));
  if (closed) ctx.closePath();
}

function drawZone(ctx, map, zone) {
  ctx.fillStyle = zone.colour || "#cfe8d5";
  if (zone.rect) {
    const [x0, y0, x1, y1] = zone.rect;
    ctx.fillRect(map.x(Math.min(x0, x1)), map.y(Math.max(y0, y1)), Math.abs(x1 - x0) * map.s, Math.abs(y1 - y0) * map.s);
  } else if (zone.circle) {
    const [x, y, r] = zone.circle;
    ctx.beginPath();
    ctx.arc(map.x(x), map.y(y), r * map.s, 0, 2 * Math.PI);
    ctx.fill();
  } else if (zone.polygon) {
    path(ctx, map, zone.polygon, true);
    ctx.fill();
  }
}

function drawBox(ctx, map, box) {
  const [x, y] = box.at;
  const [w, d] = box.size;
  ctx.save();
  ctx.translate(map.x(x), map.y(y));
  ctx.rotate(-((box.heading || 0) * Math.PI) / 180);
  ctx.fillStyle = box.colour || "#8a6d52";
  ctx.fillRect((-w / 2) * map.s, (-d / 2) * map.s, w * map.s, d * map.s);
  ctx.restore();
}

function drawWorld(ctx, map, world) {
  ctx.fillStyle = world.floor || "#ffffff";
  ctx.fillRect(map.ox, map.oy, map.w * map.s, map.hgt * map.s);
  for (const zone of world.zones || []) drawZone(ctx, map, zone);
  for (const line of world.lines || []) {
    path(ctx, map, line.points, line.closed);
    ctx.strokeStyle = line.colour || "#111";
    ctx.lineWidth = Math.max(1, line.width * map.s);
    ctx.stroke();
  }
  for (const wall of world.walls || []) {
    path(ctx, map, [wall.start, wall.end], false);
    ctx.strokeStyle = wall.colour || "#555";
    ctx.lineWidth = Math.max(2, wall.thickness * map.s);
    ctx.stroke();
  }
  for (const box of world.boxes || []) drawBox(ctx, map, box);
  for (const c of world.cylinders || []) {
    ctx.fillStyle = c.colour || "#8a6d52";
    ctx.beginPath();
    ctx.arc(map.x(c.at[0]), map.y(c.at[1]), c.radius * map.s, 0, 2 * Math.PI);
    ctx.fill();
  }
  for (const sign of [...(world.signs || []), ...(world.markers || [])]) {
    ctx.fillStyle = sign.kind ? "#c0392b" : "#222";
    ctx.fillRect(map.x(sign.at[0]) - 4, map.y(sign.at[1]) - 4, 8, 8);
  }
}

function drawRobot(ctx, map, pose, radius) {
  const r = Math.max(6, radius * map.s);
  ctx.save();
  ctx.translate(map.x(pose.x), map.y(pose.y));
  ctx.rotate(-(pose.heading * Math.PI) / 180); // the canvas's y grows downwards
  ctx.fillStyle = "#1f5fbf";
  ctx.beginPath();
  ctx.arc(0, 0, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#ffbf47"; // the nose: where the robot is heading
  ctx.beginPath();
  ctx.moveTo(r, 0);
  ctx.lineTo(r * 0.2, -r * 0.55);
  ctx.lineTo(r * 0.2, r * 0.55);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}

function draw() {
  run.drawing = false;
  const canvas = $("#view");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f7f5ef";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const world = run.world;
  if (!world || !world.size) return;
  const map = mapOf(canvas, world);
  drawWorld(ctx, map, world);
  if (run.trail.length > 1) {
    path(ctx, map, run.trail, false);
    ctx.strokeStyle = "rgba(31, 95, 191, 0.55)";
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  const pose = run.pose || (world.robot && world.robot.start);
  if (pose) drawRobot(ctx, map, pose, (world.robot && world.robot.radius) || 0.08);
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
    h("th", { scope: "row" }, h("code", {}, `robot.${name}`)),
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
  } else if (name === "sensors") {
    showSensors(data);
  } else if (name === "output") {
    print(data.stream, data.line);
  } else if (name === "camera") {
    const img = $("#camera");
    img.src = `data:image/jpeg;base64,${data.jpeg}`;
    img.hidden = false;
  } else if (name === "status") {
    status(data.status === "IN_PROGRESS" ? t("run.running") : t("run.queued"));
  } else if (name === "end") {
    if (run.stoppedByMe) { // the student's own Stop: nothing went wrong
      status(t("run.stopped"));
      return;
    }
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
  run.stoppedByMe = false;
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
  run.stoppedByMe = true;
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
