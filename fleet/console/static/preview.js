// A robot's camera preview. It is off until the teacher opens it for one robot;
// the pictures live only in this page (an <img> data URL, replaced by the next
// one) and the console's memory; closing the dialog turns the preview off on the robot.

import { api, fail, readEvents } from "./api.js";
import { $ } from "./dom.js";
import { locale, t } from "./i18n.js";

const enc = encodeURIComponent;

const preview = {
  device: "", // the robot being watched ("" when none)
  control: null, // AbortController of its event stream
  until: 0, // when the console stops it (Unix seconds)
  state: "", // the last state shown
  clock: 0, // the countdown's timer
  opener: null, // what had focus before the dialog
};

function showMessage(text) {
  $("#preview-message").textContent = text;
  $("#preview-message").hidden = !text;
  // the status line says it for screen readers; on screen the message in the frame is enough
  $("#preview-status").classList.toggle("sr-only", Boolean(text));
}

function setStatus(text) {
  // only when it changes: a screen reader should not hear every picture
  if ($("#preview-status").textContent !== text) $("#preview-status").textContent = text;
}

function tick() {
  const left = Math.max(0, Math.round(preview.until - Date.now() / 1000));
  const mm = Math.floor(left / 60);
  const ss = String(left % 60).padStart(2, "0");
  $("#preview-clock").textContent = preview.until && preview.state !== "off"
    ? t("preview.left", { time: `${mm}:${ss}` }) : "";
}

function showOff() {
  const img = $("#preview-img");
  preview.state = "off";
  img.hidden = true;
  img.removeAttribute("src");
  $("#preview-dialog").dataset.state = "off";
  showMessage(t("preview.ended"));
  setStatus(t("preview.ended"));
  $("#preview-again").textContent = t("preview.restart");
  tick();
}

function onPreview(event, data) {
  if (event === "off" || data.state === "off") { showOff(); return; }
  const img = $("#preview-img");
  preview.until = data.until || preview.until;
  preview.state = data.state;
  $("#preview-dialog").dataset.state = data.state;
  if (data.state === "frame") {
    img.src = `data:image/jpeg;base64,${data.jpeg}`;
    img.dataset.seq = String(data.seq);
    img.width = data.width || 160;
    img.height = data.height || 120;
    const at = new Date(data.ts * 1000).toLocaleTimeString(locale());
    img.alt = t("preview.alt", { name: preview.device, time: at });
    img.hidden = false;
    showMessage("");
    setStatus(data.source === "program" ? t("preview.program") : t("preview.robot"));
  } else {
    // no picture: say why, and show no stale one
    img.hidden = true;
    img.removeAttribute("src");
    const text = data.state === "error"
      ? t("preview.error", { detail: data.detail || "" })
      : t(`preview.${data.state}`);
    showMessage(text);
    setStatus(text);
  }
  tick();
}

function follow(device) {
  if (preview.control) preview.control.abort();
  const control = new AbortController();
  preview.control = control;
  readEvents(`/api/v1/devices/${enc(device)}/preview/events`, control.signal, onPreview)
    .catch(() => { if (!control.signal.aborted) onPreview("off", {}); });
}

async function turnOn(device) {
  const answer = await api("POST", `/devices/${enc(device)}/preview`, { on: true });
  preview.until = answer.until;
  preview.state = "waiting";
  $("#preview-dialog").dataset.state = "waiting";
  $("#preview-again").textContent = t("preview.again");
  showMessage(t("preview.waiting"));
  setStatus(t("preview.waiting"));
  follow(device);
  tick();
}

export async function openPreview(device) {
  const dialog = $("#preview-dialog");
  if (preview.device && preview.device !== device) await stopPreview(false);
  preview.device = device;
  $("#preview-title").textContent = t("preview.title", { name: device });
  $("#preview-img").hidden = true;
  try {
    await turnOn(device);
  } catch (error) {
    preview.device = "";
    fail(error);
    return;
  }
  clearInterval(preview.clock);
  preview.clock = setInterval(tick, 1000);
  if (!dialog.open) {
    preview.opener = document.activeElement;
    dialog.show(); // not modal: STOP ALL stays usable
  }
  $("#preview-close").focus();
}

// Turn the preview off on the robot and forget the picture here too.
async function stopPreview(close = true) {
  const device = preview.device;
  preview.device = "";
  if (preview.control) preview.control.abort();
  preview.control = null;
  clearInterval(preview.clock);
  const img = $("#preview-img");
  img.hidden = true;
  img.removeAttribute("src");
  if (device) {
    try {
      await api("POST", `/devices/${enc(device)}/preview`, { on: false });
    } catch (error) { if (error.status !== 401) fail(error); } // logged out: it runs out by itself
  }
  if (close && $("#preview-dialog").open) $("#preview-dialog").close();
}

function again() {
  if (!preview.device) return;
  turnOn(preview.device).catch(fail);
}

// The room says the preview ended (its 2 minutes are over) before the stream does.
export function previewSawRoom(room) {
  if (!preview.device || preview.state === "off") return;
  const d = room.devices.find((x) => x.device === preview.device);
  if (d && !d.preview) onPreview("off", {});
}

// Logging out: the preview goes off while the login still works.
export function leavePreview() {
  if ($("#preview-dialog").open) stopPreview(true);
}

export function wirePreview() {
  $("#preview-close").addEventListener("click", () => stopPreview(true));
  $("#preview-again").addEventListener("click", again);
  $("#preview-dialog").addEventListener("close", () => {
    if (preview.device) stopPreview(false);
    if (preview.control) preview.control.abort();
    preview.control = null;
    if (preview.opener && document.body.contains(preview.opener)) preview.opener.focus();
    preview.opener = null;
  });
  $("#preview-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#preview-dialog").close(); });
}
