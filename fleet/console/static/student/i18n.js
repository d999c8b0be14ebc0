// The student page's words: one table per language (words-en.js, words-zh.js, the
// same keys); t("key", {name: value}) fills {name}. The language is the one chosen on
// this computer before, else the browser's; the switch in the header changes it.

import en from "./words-en.js";
import zh from "./words-zh.js";

const TABLES = { en, zh };

export const lang = { now: "en" };

export function pickLang() {
  const saved = localStorage.getItem("rc-lang");
  if (saved === "zh" || saved === "en") return saved;
  const prefs = navigator.languages || [navigator.language || "en"];
  return prefs.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export function t(key, vars) {
  let text = TABLES[lang.now][key] ?? en[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

// A {en, zh} pair from the lesson, in the page's language.
export const pick = (pair) => (pair ? pair[lang.now] || pair.en : "");

// Fill every element marked data-i18n (its text) or data-i18n-aria (its label).
export function translatePage() {
  document.documentElement.lang = lang.now === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
}
