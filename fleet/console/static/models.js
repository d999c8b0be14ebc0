// The models page: the console's model shelf (the teacher's own models and the ones
// students taught), "Push to robots…" (all or some robots, each with its student, then
// each robot's install job as it comes back), and "Add a model" (an .onnx and its .yaml).

import { api, ApiError, fail } from "./api.js";
import { $, changed, h, toast } from "./dom.js";
import { locale, t } from "./i18n.js";
import { state } from "./store.js";

const enc = encodeURIComponent;
const ACTIVE = new Set(["PENDING", "QUEUED", "IN_PROGRESS"]);

// What this page knows: the shelf, the model being pushed, the jobs a push made.
const shelf = { models: null, picking: "", picked: new Set(), all: true, pushed: null, seen: new Map() };

function modelTitle(m) {
  return m.title ? m.title[state.lang] || m.title.en : m.name;
}

function labelText(m) {
  const names = m.labels.map((l) => l[state.lang] || l.id);
  const comma = state.lang === "zh" ? "、" : ", ";
  return names.length > 6 ? `${names.slice(0, 6).join(comma)} … (+${names.length - 6})` : names.join(comma);
}

function sizeText(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function whose(m) {
  if (!m.student_id) return h("span", { class: "muted" }, t("models.yours"));
  return h("span", {}, m.student || t("models.gone"), m.roster ? h("span", { class: "muted" }, ` · ${m.roster}`) : null);
}

function modelRow(m) {
  const open = shelf.picking === m.sha256;
  return h("tr", { dataset: { model: m.name } },
    h("th", { scope: "row" }, h("strong", {}, m.name), h("br"), h("span", { class: "muted small-print" }, modelTitle(m))),
    h("td", {}, m.task ? t(`models.task.${m.task}`) : "?"),
    h("td", { class: "small-print" }, labelText(m)),
    h("td", {}, whose(m)),
    h("td", { class: "num" }, sizeText(m.size)),
    h("td", {}, new Date(m.created * 1000).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" })),
    h("td", {}, h("button", {
      type: "button", class: open ? "primary" : "", "aria-expanded": String(open), "aria-controls": "model-push",
      onclick: () => pickModel(open ? "" : m.sha256),
    }, t("models.push"))));
}

function renderShelf() {
  const models = shelf.models || [];
  if (!changed("models-shelf", models, shelf.picking)) return;
  $("#models-table tbody").replaceChildren(...models.map(modelRow));
  $("#models-empty").hidden = models.length > 0 || shelf.models === null;
  $("#models-table").hidden = models.length === 0;
}

// ---- push to robots --------------------------------------------------------

function robotChoice(d) {
  const box = h("input", {
    type: "checkbox", value: d.device, checked: shelf.all || shelf.picked.has(d.device), disabled: shelf.all,
    onchange: (e) => { if (e.target.checked) shelf.picked.add(d.device); else shelf.picked.delete(d.device); },
  });
  return h("li", {}, h("label", { class: "check" }, box, " ", h("strong", {}, d.device), " ",
    h("span", { class: "muted" }, d.student ? `${d.student}${d.roster ? ` · ${d.roster}` : ""}` : t("models.noStudent")), " ",
    h("span", { class: `pill ${d.online ? "on" : "off"}` }, d.online ? t("card.online") : t("card.offline"))));
}

// Where a pushed job is: the room's newest job of its robot while it is that one, then
// what it said last (a lesson pushed to the robot afterwards becomes its newest job).
function jobOf(ref) {
  const d = state.room.devices.find((x) => x.device === ref.device);
  if (d && d.job && d.job.job === ref.job) shelf.seen.set(ref.job, d.job);
  return shelf.seen.get(ref.job) || null;
}

// Each robot a push went to, and its install job's status.
function jobLine(ref) {
  const job = jobOf(ref);
  const status = job ? job.status : "PENDING";
  const text = status === "SUCCEEDED" ? t("models.installed") : t(`status.${status}`);
  const kind = status === "SUCCEEDED" ? "on" : ACTIVE.has(status) ? "robot" : "off";
  return h("li", { dataset: { device: ref.device, status } },
    h("strong", {}, ref.device), " ",
    h("span", { class: `pill ${kind}` }, text),
    job && job.reason && !ACTIVE.has(status) && status !== "SUCCEEDED" ? h("span", { class: "muted small-print" }, ` ${job.reason}`) : null);
}

function renderPush() {
  const panel = $("#model-push");
  const model = (shelf.models || []).find((m) => m.sha256 === shelf.picking);
  const jobs = shelf.pushed ? shelf.pushed.jobs.map((j) => {
    const job = jobOf(j);
    return [j.job, job ? [job.status, job.reason] : null];
  }) : null;
  const robots = state.room.devices.map((d) => [d.device, d.online, d.student, d.roster]);
  if (!changed("models-push", shelf.picking, shelf.all, [...shelf.picked], robots, jobs, Boolean(model))) return;
  panel.hidden = !model && !shelf.pushed;
  if (panel.hidden) return;
  const parts = [];
  if (model) {
    parts.push(h("h2", { id: "model-push-title", tabindex: "-1" }, t("models.pushTitle", { model: model.name })),
      h("p", { class: "muted" }, model.student_id
        ? t("models.pushStudent", { student: model.student || t("models.gone") })
        : t("models.pushIntro")),
      h("label", { class: "check" }, h("input", {
        type: "checkbox", id: "model-all", checked: shelf.all,
        onchange: (e) => { shelf.all = e.target.checked; renderPush(); },
      }), " ", t("models.allRobots", { n: state.room.devices.length })),
      h("ul", { class: "model-robots" }, state.room.devices.map(robotChoice)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", id: "model-push-go", onclick: pushModel }, t("models.pushGo")),
        h("button", { type: "button", onclick: () => pickModel("") }, t("models.cancel"))));
  }
  if (shelf.pushed) {
    parts.push(h("h3", { id: "model-jobs-title", tabindex: "-1" }, t("models.pushedTo", { model: shelf.pushed.model })),
      h("ul", { class: "model-jobs", role: "status", "aria-live": "polite" }, shelf.pushed.jobs.map(jobLine)));
  }
  panel.replaceChildren(...parts);
  panel.setAttribute("aria-labelledby", model ? "model-push-title" : "model-jobs-title");
}

function pickModel(sha) {
  shelf.picking = sha;
  shelf.all = true;
  shelf.picked = new Set();
  renderModels();
  if (sha) $("#model-push-title").focus();
}

async function pushModel() {
  const devices = shelf.all ? state.room.devices.map((d) => d.device) : [...shelf.picked];
  if (devices.length === 0) { toast(t("models.pickRobot"), "bad"); return; }
  try {
    shelf.pushed = await api("POST", `/models/${enc(shelf.picking)}/push`, { devices });
    toast(t("models.sent", { model: shelf.pushed.model, n: devices.length }), "good");
    shelf.picking = "";
    renderModels();
    $("#model-jobs-title").focus(); // the picker is gone: the teacher goes on where the jobs are
  } catch (error) { fail(error); }
}

// ---- add a model -----------------------------------------------------------

async function uploadFile(file) {
  const response = await fetch("/api/v1/bundles", { method: "POST", body: file });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, typeof data.detail === "string" ? data.detail : response.statusText);
  return data;
}

async function addModel(event) {
  event.preventDefault();
  const onnx = $("#model-onnx").files[0];
  const yaml = $("#model-yaml").files[0];
  $("#model-add-error").textContent = "";
  if (!onnx || !yaml) { $("#model-add-error").textContent = t("models.needBoth"); return; }
  $("#model-add-go").disabled = true;
  try {
    const uploaded = await uploadFile(onnx);
    const added = await api("POST", "/models", { manifest: await yaml.text(), sha256: uploaded.sha256 });
    toast(t("models.added", { model: added.name }), "good");
    $("#model-add").reset();
    await loadModels();
  } catch (error) {
    $("#model-add-error").textContent = error.message || String(error);
  } finally {
    $("#model-add-go").disabled = false;
  }
}

// ---- the page --------------------------------------------------------------

export function renderModels() {
  if (state.page !== "models" || !state.room) return;
  renderShelf();
  renderPush();
}

export async function loadModels() {
  try {
    shelf.models = await api("GET", "/models");
  } catch (error) { fail(error); return; }
  renderModels();
}

export function wireModels() {
  $("#model-add").addEventListener("submit", addModel);
}
