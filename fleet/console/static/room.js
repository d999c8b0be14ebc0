// The room: a card per robot (live), selecting robots, identify and pre-flight
// check, cancelling a job, and the STOP ALL bar above every page.

import { api, fail } from "./api.js";
import { $, h, toast } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { t } from "./i18n.js";
import { openJob } from "./job.js";
import { openLog } from "./log.js";
import { openPreview } from "./preview.js";
import { state } from "./store.js";

const enc = encodeURIComponent;
const ACTIVE = new Set(["PENDING", "QUEUED", "IN_PROGRESS"]);

// ---- STOP ALL -------------------------------------------------------------

export function renderStop() {
  const { estop, devices } = state.room;
  const bar = $("#stopbar");
  const status = $("#stop-status");
  const online = devices.filter((d) => d.online);
  const stopped = online.filter((d) => d.estopped);
  const offline = devices.length - online.length;
  bar.classList.toggle("active", estop.active);
  $("#release").hidden = !estop.active;
  const all = estop.active && stopped.length === online.length;
  bar.classList.toggle("confirmed", all);
  bar.dataset.state = !estop.active ? "ready" : all ? "stopped" : "stopping";
  if (!estop.active) status.textContent = t("stop.ready");
  else if (all) status.textContent = t("stop.done", { n: stopped.length });
  else status.textContent = t("stop.waiting", { n: stopped.length, total: online.length });
  if (estop.active && offline > 0) status.textContent += ` ${t("stop.offline", { n: offline })}`;
}

async function stopAll() {
  try {
    state.room.estop = await api("POST", "/stop");
    renderStop();
    toast(t("stop.sent"), "bad");
  } catch (error) { fail(error); }
}

// Clear the stop: the robots may run lessons again.
async function release() {
  try {
    state.room.estop = await api("POST", "/estop/clear");
    renderStop();
    toast(t("stop.released"));
  } catch (error) { fail(error); }
}

// ---- a robot's card -------------------------------------------------------

function health(d) {
  if (!d.preflight) return t("card.none");
  const parts = [t("health.ok", { ok: d.preflight.ok ?? 0 })];
  if (d.preflight.warn) parts.push(t("health.warn", { n: d.preflight.warn }));
  if (d.preflight.fail) parts.push(t("health.fail", { n: d.preflight.fail }));
  return parts.join(" · ");
}

function jobCell(d) {
  const job = d.job;
  if (!job) return t("card.none");
  return [lessonTitle(job.lesson_id), " ", h("button", {
    type: "button", class: `linkish state s-${job.status}`, id: `job-${d.device}`,
    "aria-label": t("job.open", { status: t(`status.${job.status}`), name: d.device }),
    onclick: () => openJob({ job: job.job, device: d.device, lesson_id: job.lesson_id }),
  }, t(`status.${job.status}`)),
  ACTIVE.has(job.status) ? h("button", {
    type: "button", class: "small cancel", id: `cancel-${d.device}`,
    "aria-label": t("card.cancelJob", { name: d.device }),
    onclick: () => cancelJob(job.job),
  }, t("card.cancel")) : null];
}

function lastCell(last) {
  if (!last) return t("card.none");
  return [h("strong", {}, formatScore(last.score)), " ",
    h("span", { class: last.passed ? "good" : "muted" }, last.passed ? `✓ ${t("card.passed")}` : t("card.failed"))];
}

function cardActions(d) {
  return h("div", { class: "card-actions" },
    h("button", {
      type: "button", class: "identify-one", id: `identify-${d.device}`, disabled: !d.online,
      "aria-label": t("room.identifyOne", { name: d.device }),
      onclick: () => identify([d.device]),
    }, t("room.identify")),
    h("button", {
      type: "button", class: "log-one", id: `log-${d.device}`,
      "aria-label": t("log.title", { name: d.device }),
      onclick: () => openLog(d.device),
    }, t("card.log")),
    h("button", {
      type: "button", class: "preview-one", id: `preview-${d.device}`, disabled: !d.online,
      "aria-pressed": String(Boolean(d.preview)),
      "aria-label": t("preview.open", { name: d.device }),
      onclick: () => openPreview(d.device),
    }, t("card.camera")));
}

function card(d) {
  const id = `sel-${d.device}`;
  const battery = d.battery_v === null ? t("card.none") : `${d.battery_v.toFixed(1)} V`;
  const classes = ["card", d.online ? "online" : "offline"];
  if (d.estopped) classes.push("stopped");
  if (state.selected.has(d.device)) classes.push("selected");
  return h("article", {
    class: classes.join(" "),
    "aria-labelledby": `name-${d.device}`,
    dataset: {
      device: d.device, online: String(d.online), estopped: String(d.estopped),
      jobStatus: d.job ? d.job.status : "",
    },
  },
  h("div", { class: "card-head" },
    h("input", {
      type: "checkbox", id, checked: state.selected.has(d.device), class: "select",
      "aria-label": t("room.select", { name: d.device }),
      onchange: (e) => { toggleSelect(d.device, e.target.checked); },
    }),
    h("label", { for: id, class: "card-name", id: `name-${d.device}` }, d.device),
    h("span", { class: `pill ${d.online ? "on" : "off"}` }, d.online ? t("card.online") : t("card.offline"))),
  d.estopped ? h("p", { class: "stopped-badge", role: "status" }, `■ ${t("card.stopped")}`) : null,
  d.preview ? h("p", { class: "preview-badge" }, `● ${t("preview.badge")}`) : null,
  d.identity_clash ? h("p", { class: "clash-badge", role: "alert" }, `⚠ ${t("card.clash", { name: d.device })}`) : null,
  h("dl", {},
    h("dt", {}, t("card.student")),
    h("dd", { class: d.student ? "" : "muted" }, d.student || t("card.unbound")),
    h("dt", {}, t("card.job")),
    h("dd", { class: "job" }, jobCell(d)),
    h("dt", {}, t("card.last")),
    h("dd", { class: "last" }, lastCell(d.last_result)),
    h("dt", {}, t("card.battery")),
    h("dd", {}, battery),
    h("dt", {}, t("card.health")),
    h("dd", {}, health(d))),
  cardActions(d));
}

async function cancelJob(job) {
  try {
    await api("POST", `/jobs/${enc(job)}/cancel`);
    toast(t("card.cancelSent"));
  } catch (error) { fail(error); }
}

// ---- the cards ------------------------------------------------------------

const cardCache = new Map(); // device -> {key, el}

// Put the cards in #cards, rebuilding only those that changed, so focus and
// clicks survive live updates.
function placeCards(devices) {
  const focused = document.activeElement;
  const children = devices.map((d) => {
    const key = JSON.stringify([d, state.lang, state.selected.has(d.device), Boolean(state.library)]);
    const kept = cardCache.get(d.device);
    if (kept && kept.key === key) return kept.el;
    const el = card(d);
    cardCache.set(d.device, { key, el });
    return el;
  });
  const box = $("#cards");
  children.forEach((el, i) => {
    const here = box.children[i];
    if (here === el) return;
    if (here) box.insertBefore(el, here); else box.append(el);
  });
  while (box.children.length > children.length) box.lastElementChild.remove();
  if (focused && focused !== document.activeElement && focused.id && document.getElementById(focused.id)) {
    document.getElementById(focused.id).focus();
  }
}

export function renderRoom() {
  const { devices } = state.room;
  const known = new Set(devices.map((d) => d.device));
  for (const name of [...state.selected]) if (!known.has(name)) state.selected.delete(name);
  placeCards(devices);
  $("#room-empty").hidden = devices.length > 0;
  const online = devices.filter((d) => d.online).length;
  $("#room-summary").textContent = t("room.summary", { online, total: devices.length });
  $("#selected-count").textContent = t("room.selected", { n: state.selected.size });
  const all = $("#select-all");
  all.checked = devices.length > 0 && state.selected.size === devices.length;
  all.indeterminate = state.selected.size > 0 && state.selected.size < devices.length;
}

function toggleSelect(device, on) {
  if (on) state.selected.add(device); else state.selected.delete(device);
  renderRoom();
}

function selectAll(on) {
  state.selected = on ? new Set(state.room.devices.map((d) => d.device)) : new Set();
  renderRoom();
}

async function identify(devices) {
  if (!devices.length) { toast(t("room.identifyNone")); return; }
  try {
    await Promise.all(devices.map((d) => api("POST", `/devices/${enc(d)}/identify`)));
    toast(devices.length === 1
      ? t("room.identifySentOne", { name: devices[0] })
      : t("room.identifySent", { n: devices.length }), "good");
  } catch (error) { fail(error); }
}

async function preflight(devices) {
  if (!devices.length) { toast(t("room.identifyNone")); return; }
  try {
    await Promise.all(devices.map((d) => api("POST", `/devices/${enc(d)}/preflight`)));
    toast(t("room.checkSent", { n: devices.length }), "good");
  } catch (error) { fail(error); }
}

export function wireRoom() {
  $("#stop-all").addEventListener("click", stopAll);
  $("#release").addEventListener("click", release);
  $("#select-all").addEventListener("change", (e) => selectAll(e.target.checked));
  $("#identify-selected").addEventListener("click", () => identify([...state.selected]));
  $("#check-selected").addEventListener("click", () => preflight([...state.selected]));
}
