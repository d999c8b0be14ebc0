// New robots on the room page: claim an unclaimed robot with the code it shows,
// and rename, move or revoke one of this room's robots. It asks the console
// every 3 s while the room is shown.

import { api } from "./api.js";
import { $, h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const enc = encodeURIComponent;
let timer = 0;
let last = ""; // what the panel shows now, so a refresh that brings nothing new keeps it

function say(text, kind) {
  toast(text, kind, 5000);
}

// Do one thing to the console, say how it went, and look again.
async function act(method, path, body, done, wrong) {
  try {
    await api(method, path, body);
    say(done, "good");
    last = "";
    refresh();
  } catch (error) {
    say(wrong && error.status === 403 ? wrong : t("enrol.failed", { msg: error.message }), "bad");
  }
}

function claim(robot, code, name, address) {
  return act("POST", "/enrol/claim", { robot, code, name, ...(address ? { address } : {}) },
    t("enrol.claimed", { name }), t("enrol.wrong"));
}

function revoke(device) {
  const typed = window.prompt(t("enrol.revokeAsk", { name: device }));
  if (typed === null) return;
  act("POST", `/devices/${enc(device)}/revoke`, { confirm: typed }, t("enrol.revoked", { name: device }));
}

function move(device) {
  const typed = window.prompt(t("enrol.moveAsk", { name: device }));
  if (typed === null) return;
  act("POST", `/devices/${enc(device)}/move`, { confirm: typed }, t("enrol.moved", { name: device }));
}

function rename(device) {
  const to = (window.prompt(t("enrol.renameAsk", { name: device })) || "").trim();
  if (!to || to === device) return;
  act("POST", `/devices/${enc(device)}/rename`, { name: to }, t("enrol.renamed", { name: device, to }));
}

function claimForm(robot, suggested, withAddress) {
  const fields = {
    robot: h("input", { name: "robot", required: true, placeholder: "rc-…", "aria-label": t("enrol.robotId"), value: robot || "" }),
    address: h("input", { name: "address", required: true, placeholder: "192.168.1.23:8764", "aria-label": t("enrol.address") }),
    code: h("input", { name: "code", required: true, inputmode: "numeric", autocomplete: "off", placeholder: "1234-5678", "aria-label": t("enrol.code") }),
    name: h("input", { name: "name", required: true, pattern: NAME_RE.source, placeholder: "robot-07", "aria-label": t("enrol.name"),
      value: NAME_RE.test(suggested || "") ? suggested : "" }),
  };
  return h("form", { class: "enrol-claim", onsubmit: (event) => {
    event.preventDefault();
    claim(fields.robot.value.trim(), fields.code.value, fields.name.value.trim(),
      withAddress ? fields.address.value.trim() : null);
  } },
  withAddress ? [fields.robot, fields.address] : [],
  fields.code, fields.name, h("button", { type: "submit", class: "primary" }, t("enrol.claim")));
}

function deviceItem(d) {
  return h("li", { "data-device": d.device },
    h("span", {}, d.device), " ",
    h("button", { type: "button", class: "rename", onclick: () => rename(d.device) }, t("enrol.rename")), " ",
    h("button", { type: "button", class: "move", onclick: () => move(d.device) }, t("enrol.move")), " ",
    h("button", { type: "button", class: "danger revoke", onclick: () => revoke(d.device) }, t("enrol.revoke")));
}

function render(found, devices) {
  const panel = $("#enrol");
  const key = JSON.stringify([state.lang, found.enabled, devices.map((d) => d.device),
    found.robots.map((r) => [r.robot, r.hostname, r.address])]);
  if (key === last) return; // nothing new: keep what the teacher is typing
  if (panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
  last = key;
  panel.replaceChildren(
    h("h2", { id: "enrol-title" }, t("enrol.title")),
    h("p", { class: "muted" }, found.enabled ? t("enrol.intro") : t("enrol.disabled")),
  );
  if (!found.enabled) return;
  const robots = found.robots.map((r) => h("li", { class: "enrol-robot", "data-robot": r.robot },
    h("strong", {}, r.robot), " ", h("span", { class: "muted" }, `${r.hostname || ""} ${r.address}`),
    claimForm(r.robot, r.hostname, false)));
  panel.append(
    robots.length ? h("ul", { class: "enrol-list" }, robots) : h("p", { class: "empty" }, t("enrol.none")),
    h("details", {}, h("summary", {}, t("enrol.byAddress")), claimForm("", "", true)),
    h("h3", {}, t("enrol.manage")),
    h("ul", { class: "enrol-devices" }, devices.map(deviceItem)),
  );
}

async function refresh() {
  const panel = $("#enrol");
  const room = $("#page-room");
  if (!panel || !room || room.hidden) return;
  try {
    const found = await api("GET", "/enrol");
    panel.hidden = false;
    render(found, found.devices.map((device) => ({ device })));
  } catch (error) {
    panel.hidden = true; // logged out, or the console is gone: the page says so
  }
}

// The language changed: draw the panel again in it.
export function relabelEnrol() {
  last = "";
  refresh();
}

export function startEnrol() {
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 3000);
}
