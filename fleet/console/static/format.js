// How lessons and scores are named on every page.

import { t } from "./i18n.js";
import { state } from "./store.js";

// A lesson's title in the teacher's language (its id until the library has come).
export function lessonTitle(id) {
  const lesson = (state.library || []).find((l) => l.id === id);
  return lesson ? lesson.title[state.lang] : id;
}

export function formatScore(score) {
  return score === null || score === undefined ? t("card.none") : String(Math.round(score));
}
