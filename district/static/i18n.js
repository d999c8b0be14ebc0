// The page's words: one table per language (i18n-en.js, i18n-zh.js, the same keys),
// and t("key", {name: value}) to fill {name}.

import en from "./i18n-en.js";
import zh from "./i18n-zh.js";
import { state } from "./store.js";

const TABLES = { en, zh };

// The language chosen on this computer before, else the browser's.
export function pickLang() {
  const saved = localStorage.getItem("rc-district-lang");
  if (saved === "zh" || saved === "en") return saved;
  const prefs = navigator.languages || [navigator.language || "en"];
  return prefs.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export function t(key, vars) {
  let text = (TABLES[state.lang] || en)[key] ?? en[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

export const locale = () => (state.lang === "zh" ? "zh-CN" : "en");

// A time as the staff member's locale writes it ("—" for none).
export function when(seconds) {
  if (typeof seconds !== "number") return "—";
  return new Date(seconds * 1000).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" });
}

// A number with at most two decimals ("—" for none).
export function num(value) {
  return typeof value === "number" ? String(Math.round(value * 100) / 100) : "—";
}
