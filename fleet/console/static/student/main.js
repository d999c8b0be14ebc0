// The student's page (/s/): join the class, then the workspace. Nothing here is loaded
// from outside the console.

import { $, toast } from "../dom.js";
import { api, whenSignedOut } from "./api.js";
import { lang, pickLang, t, translatePage } from "./i18n.js";
import { showJoin } from "./join.js";
import { openWorkspace, relabel } from "./workspace.js";

let me = null;

function setLang(value) {
  lang.now = value;
  localStorage.setItem("rc-lang", value);
  $("#lang").value = value;
  translatePage();
  if (me) relabel();
}

async function start() {
  setLang(pickLang());
  $("#lang").addEventListener("change", (e) => setLang(e.target.value));
  $("#signout").addEventListener("click", async () => {
    await api("POST", "/student/logout").catch(() => {});
    location.reload();
  });
  whenSignedOut(() => {
    if (!me) return;
    toast(t("signedout"), "bad", 8000);
    me = null;
    $("#work").hidden = true;
    $("#signout").hidden = true;
    $("#who").hidden = true;
    showJoin(enter);
  });
  try {
    me = await api("GET", "/student/me");
  } catch {
    me = null;
  }
  if (me) await enter(me);
  else showJoin(enter);
}

async function enter(student) {
  me = student;
  $("#join").hidden = true;
  $("#signout").hidden = false;
  await openWorkspace(student);
}

start();
