// Joining a class: the class code (from the QR code's address, or typed), then the
// student's name from the class list, then their PIN (digits, or 3 pictures for the
// youngest). Wrong PINs are limited by the console; its message says how long to wait.

import { $, h } from "../dom.js";
import { PICTURES, pictureIcon } from "../pictures.js";
import { api } from "./api.js";
import { pick, t } from "./i18n.js";

let joined = () => {};
let info = null; // what /join/{code} answered: the class and its students
let chosen = null; // the student who is typing their PIN
let typed = ""; // the PIN so far

function step(name) {
  for (const id of ["code-form", "names", "pin-form"]) $(`#${id}`).hidden = id !== name;
  $("#join-error").textContent = "";
}

function fail(error) {
  $("#join-error").textContent = error.message || String(error);
}

async function lookUp(code) {
  try {
    info = await api("GET", `/join/${encodeURIComponent(code.trim())}`);
  } catch (error) {
    fail(error);
    step("code-form");
    $("#code").focus();
    return;
  }
  showNames();
}

function showNames() {
  const list = $("#name-list");
  list.replaceChildren(...info.students.map((s) => h("button", {
    type: "button", class: "name", disabled: s.pin === null,
    onclick: () => askPin(s),
  }, s.name, s.pin === null ? h("small", {}, ` ${t("join.nopin")}`) : null)));
  step("names");
  list.querySelector("button:not([disabled])")?.focus();
}

function dots() {
  const need = chosen.pin === "pictures" ? 3 : 6;
  const shown = chosen.pin === "pictures"
    ? [...typed].map((id) => pictureIcon(Number(id), 40, pick(PICTURES[Number(id) - 1].name)))
    : [...typed].map(() => h("span", { class: "dot" }, "●"));
  $("#pin-dots").replaceChildren(...shown);
  $("#pin-go").disabled = chosen.pin === "pictures" ? typed.length !== 3 : typed.length < 4;
  return need;
}

function press(key) {
  const max = chosen.pin === "pictures" ? 3 : 6;
  if (key === "del") typed = typed.slice(0, -1);
  else if (typed.length < max) typed += key;
  dots();
}

function askPin(student) {
  chosen = student;
  typed = "";
  $("#pin-hello").textContent = t("join.hello", { name: student.name });
  $("#pin-ask").textContent = t(student.pin === "pictures" ? "join.ask.pictures" : "join.ask.digits");
  const pad = $("#pin-pad");
  pad.className = `pin-pad ${student.pin}`;
  const keys = student.pin === "pictures"
    ? PICTURES.map((p) => h("button", {
      type: "button", class: "key picture", "aria-label": pick(p.name),
      onclick: () => press(String(p.id)),
    }, pictureIcon(p.id, 64)))
    : ["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0"].map((k) => h("button", {
      type: "button", class: k === "del" ? "key del" : "key",
      "aria-label": k === "del" ? t("join.delete") : k,
      onclick: () => press(k),
    }, k === "del" ? "⌫" : k));
  pad.replaceChildren(...keys);
  dots();
  step("pin-form");
  pad.querySelector("button")?.focus();
}

async function signIn(event) {
  event.preventDefault();
  try {
    await api("POST", "/join", { code: $("#code").value.trim(), student_id: chosen.id, pin: typed });
  } catch (error) {
    typed = "";
    dots();
    fail(error);
    return;
  }
  joined(await api("GET", "/student/me"));
}

// Show the joining steps; onJoined(me) runs once the student is signed in.
export function showJoin(onJoined) {
  joined = onJoined;
  $("#join").hidden = false;
  const fromQr = new URLSearchParams(location.search).get("code");
  $("#code-form").onsubmit = (e) => { e.preventDefault(); lookUp($("#code").value); };
  $("#back-code").onclick = () => step("code-form");
  $("#back-names").onclick = () => showNames();
  $("#pin-form").onsubmit = signIn;
  document.onkeydown = (e) => {
    if ($("#pin-form").hidden || !chosen || chosen.pin === "pictures") return;
    if (/^[0-9]$/.test(e.key)) press(e.key);
    else if (e.key === "Backspace") press("del");
  };
  if (fromQr) {
    $("#code").value = fromQr;
    lookUp(fromQr);
  } else {
    step("code-form");
    $("#code").focus();
  }
}
