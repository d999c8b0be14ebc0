// The class's camera switch: whether its students see a robot's camera on their page
// (the camera panel, "Show the robot's camera" when they run). Off also ends the previews
// they turned on; the teacher's own preview of a robot works either way.

import { api, fail } from "./api.js";
import { $, toast } from "./dom.js";
import { t } from "./i18n.js";
import { cls, enc } from "./classroom-store.js";

const camera = { roster: "", on: true };

export function renderCamera() {
  const box = $("#class-camera");
  box.checked = camera.on;
  box.disabled = !cls.roster || camera.roster !== cls.roster;
  $("#class-camera-state").textContent = t(camera.on ? "camera.on" : "camera.off");
  $("#class-camera-state").className = `pill ${camera.on ? "on" : "off"}`;
}

// The class chosen: ask the console how its switch stands.
export async function loadCamera(roster) {
  camera.roster = "";
  renderCamera();
  if (!roster) return;
  try {
    const answer = await api("GET", `/rosters/${enc(roster)}/camera`);
    if (roster !== cls.roster) return;
    camera.roster = roster;
    camera.on = answer.camera_panel;
  } catch (error) { fail(error); }
  renderCamera();
}

async function switchCamera(event) {
  const on = event.target.checked;
  const roster = cls.roster;
  try {
    const answer = await api("PUT", `/rosters/${enc(roster)}/camera`, { on });
    camera.on = answer.camera_panel;
    toast(t(on ? "camera.turnedOn" : "camera.turnedOff", { roster }), "good");
  } catch (error) { fail(error); }
  renderCamera();
}

export function wireCamera() {
  $("#class-camera").addEventListener("change", switchCamera);
}
