"""The class page's static files: pictures.js is shared with the student's page, so it
stands alone; the 9 pictures keep their numbers (a picture PIN "372" is star, car, moon)."""

from __future__ import annotations

import re

from fleet.console.web import STATIC

PICTURES = ["sun", "moon", "star", "heart", "tree", "fish", "car", "flower", "house"]


def test_pictures_stand_alone_and_keep_their_numbers() -> None:
    text = (STATIC / "pictures.js").read_text(encoding="utf-8")
    assert not re.search(r"^\s*import\b|\bimport\s*\(", text, re.M)  # imports nothing
    assert re.search(r"^export const PICTURES\b", text, re.M)
    assert re.search(r"^export function pictureIcon\(id, size = 48, label = \"\"\)", text, re.M)
    found = re.findall(r'\{ id: (\d), key: "(\w+)", name: \{ en: "[^"]+", zh: "[^"]+" \}', text)
    assert [(int(n), key) for n, key in found] == list(enumerate(PICTURES, start=1))


def test_the_class_page_is_a_page_of_the_console() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert 'data-page="class"' in html and 'id="page-class"' in html
    assert '"class"' in (STATIC / "pages.js").read_text(encoding="utf-8")
    # the print style sheet prints the PIN cards and nothing else
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    assert "@media print" in css and "#class-body > :not(#pin-sheet)" in css
