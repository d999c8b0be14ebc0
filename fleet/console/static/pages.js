// Which page is shown: one <section id="page-NAME"> at a time, the nav link marked.

import { $ } from "./dom.js";
import { state } from "./store.js";

export const PAGES = ["login", "room", "class", "roster", "lessons", "models", "results", "audit"];

export function showPage(name) {
  state.page = name;
  for (const page of PAGES) $(`#page-${page}`).hidden = page !== name;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}
