// The page's words: one table per language (i18n-en.js, i18n-zh.js, the same
// keys), the language a teacher gets, and t("key", {name: value}) to fill {name}.

import en from "./i18n-en.js";
import zh from "./i18n-zh.js";
import { state } from "./store.js";

const TABLES = { en, zh };

// The language chosen on this computer before, else the browser's.
export function pickLang() {
  const saved = localStorage.getItem("rc-lang");
  if (saved === "zh" || saved === "en") return saved;
  const prefs = navigator.languages || [navigator.language || "en"];
  return prefs.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export function t(key, vars) {
  const table = TABLES[state.lang] || en;
  let text = table[key] ?? en[key] ?? key;
  if (vars) {
    for (const [name, value] of Object.entries(vars)) {
      text = text.split(`{${name}}`).join(String(value));
    }
  }
  return text;
}

// For dates and times: "zh-CN" or "en".
export const locale = () => (state.lang === "zh" ? "zh-CN" : "en");
