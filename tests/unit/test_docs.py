"""The documents stay a map: short enough to read, links that lead somewhere, every bench written up.

- docs/architecture.md is a map a newcomer reads in ten minutes: at most 300 lines;
- every relative link in docs/ and the READMEs points at a file that exists
  (and, into a markdown file, at a heading that exists);
- every bench/*.py has its section in docs/benchmarks.md;
- every decision record is short, has its three parts and is in the index.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted([*DOCS.rglob("*.md"), *ROOT.glob("README*.md")])
# [text](target) and [text](target "title"); the text may span lines
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def without_code(text: str) -> str:
    """The page without fenced code blocks and inline code (links there are not links)."""
    text = FENCE.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(without_code(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)  # http:, mailto:, ...
    ]


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} there")
    return broken


def test_the_architecture_is_a_map_not_a_diary() -> None:
    lines = (DOCS / "architecture.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, (
        f"docs/architecture.md has {len(lines)} lines: figures go to benchmarks.md, "
        "reasons to decisions/, history to git"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page: Path) -> None:
    assert not broken_links(page), broken_links(page)


def test_every_bench_has_a_section_in_benchmarks() -> None:
    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    sections = HEADING.findall(text)
    missing = [
        f"bench/{bench.name}"
        for bench in sorted((ROOT / "bench").glob("*.py"))
        if not any(f"`bench/{bench.name}`" in h for h in sections)
    ]
    assert not missing, f"docs/benchmarks.md has no section for {missing}"


RECORDS = sorted((DOCS / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name)
def test_decision_records_are_short_and_whole(record: Path) -> None:
    text = record.read_text(encoding="utf-8")
    assert text.startswith(f"# {record.name[:4]}. "), "starts with '# NNNN. Title'"
    for part in ("## Context", "## Decision", "## Consequences"):
        assert f"\n{part}\n" in text, f"{record.name} has no {part}"
    assert len(text.splitlines()) <= 45, f"{record.name}: a record is at most about 40 lines"
    index = (DOCS / "decisions" / "README.md").read_text(encoding="utf-8")
    assert f"]({record.name})" in index, f"{record.name} is not in decisions/README.md"


def test_decision_numbers_are_unique() -> None:
    numbers = [r.name[:4] for r in RECORDS]
    assert RECORDS
    assert len(numbers) == len(set(numbers)), numbers


def test_the_link_checker_sees_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A heading, with `code`\n\n## Again\n## Again\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok](there.md#a-heading-with-code) [ok](there.md#again-1)\n"
        "[ok](https://example.org/x) [ok](#top)\n# Top\n"
        "[gone](missing.md) [bad anchor](there.md#nowhere)\n"
        "`[not a link](nowhere.md)`\n```\n[not a link](nowhere.md)\n```\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "there.md#nowhere: no heading #nowhere there",
    ]
