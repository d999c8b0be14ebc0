"""The committed bundles were made from the locked npm packages and today's sources.

``make frontend`` writes ``fleet/console/static/vendor/editor.js`` (CodeMirror) and
``blocks.js`` (Blockly), each with a first line
naming every bundled package at its version, the sha256 of
``frontend/package-lock.json`` and of the build's own sources; here both hashes are
recomputed and the versions compared with the lock, so a bundle from other versions
(or a source edited without rebuilding) fails. Node is never needed to run this.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
VENDOR = ROOT / "fleet" / "console" / "static" / "vendor"
BUNDLE = VENDOR / "editor.js"
BLOCKS = VENDOR / "blocks.js"
BLOCK_NAMES = ROOT / "lessons" / "blocks.json"
HEADER = re.compile(
    r"^/\*! RoboClass (?P<title>editor|blocks) \(frontend/src/(?P=title)\.js, make frontend\): "
    r"(?P<packages>[^|]+) "
    r"\| package-lock\.json sha256 (?P<lock>[0-9a-f]{64}) "
    r"\| sources sha256 (?P<sources>[0-9a-f]{64}) "
    r"\| esbuild@(?P<esbuild>\S+) \| licences at the end \*/$"
)
# XML namespaces CodeMirror names when it makes SVG: identifiers, never fetched
NAMESPACES = {"http://www.w3.org/2000/svg"}


def sources_sha256(folder: Path) -> str:
    """What build.mjs hashes: build.mjs, src/*.js and the block names (lessons/blocks.json),
    each as name, NUL, bytes, NUL."""
    digest = hashlib.sha256()
    names = [
        "build.mjs",
        *sorted(f"src/{p.name}" for p in (folder / "src").iterdir()),
        "../lessons/blocks.json",
    ]
    for name in names:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    return digest.hexdigest()


def header_problems(
    first_line: str, lock_bytes: bytes, sources: str, others: tuple[str, ...] = ()
) -> list[str]:
    """Everything in the bundle's header that the lock and the sources contradict.

    ``others`` are the first lines of the other bundles: every shipped (not dev) locked
    package must be in one of them."""
    m = HEADER.match(first_line)
    if m is None:
        return [f"the first line is not the bundle's header: {first_line[:120]!r}"]
    lock: dict[str, Any] = json.loads(lock_bytes)
    locked = lock["packages"]
    problems = []
    if m["lock"] != hashlib.sha256(lock_bytes).hexdigest():
        problems.append("package-lock.json changed since the bundle was built: run make frontend")
    if m["sources"] != sources:
        problems.append(
            "frontend/src or build.mjs changed since the bundle was built: make frontend"
        )
    if locked.get("node_modules/esbuild", {}).get("version") != m["esbuild"]:
        problems.append(f"esbuild@{m['esbuild']} is not the locked esbuild")
    bundled = dict(p.rsplit("@", 1) for p in m["packages"].split())
    elsewhere = {
        p.rsplit("@", 1)[0]
        for other in others
        if (o := HEADER.match(other)) is not None
        for p in o["packages"].split()
    }
    for name, version in bundled.items():
        entry = locked.get(f"node_modules/{name}")
        if entry is None or entry.get("dev"):
            problems.append(f"{name} is bundled but not a locked dependency")
        elif entry["version"] != version:
            problems.append(f"{name}@{version} bundled, {entry['version']} locked")
    shipped = {
        path.removeprefix("node_modules/")
        for path, entry in locked.items()
        if path.startswith("node_modules/") and not entry.get("dev")
    }
    problems += [
        f"{name} is locked but not in the bundle"
        for name in sorted(shipped - set(bundled) - elsewhere)
    ]
    return problems


def bundle_lines(bundle: Path = BUNDLE) -> list[str]:
    return bundle.read_text(encoding="utf-8").splitlines()


def test_the_bundle_is_made_from_the_locked_versions() -> None:
    lock_bytes = (FRONTEND / "package-lock.json").read_bytes()
    first, blocks = bundle_lines()[0], bundle_lines(BLOCKS)[0]
    sources = sources_sha256(FRONTEND)
    assert header_problems(first, lock_bytes, sources, (blocks,)) == []
    assert header_problems(blocks, lock_bytes, sources, (first,)) == []
    # what the header names, a student's browser really gets: CodeMirror's parts
    for name in ("@codemirror/view", "@codemirror/autocomplete", "@codemirror/lang-python"):
        assert f" {name}@" in first
    locked = json.loads(lock_bytes)["packages"]
    assert f": blockly@{locked['node_modules/blockly']['version']} |" in blocks
    # each bundle alone leaves the other's packages out
    assert "blockly is locked but not in the bundle" in header_problems(first, lock_bytes, sources)


def test_a_bundle_from_other_versions_fails() -> None:
    lock_bytes = (FRONTEND / "package-lock.json").read_bytes()
    first = bundle_lines()[0]
    sources = sources_sha256(FRONTEND)
    version = re.search(r"@codemirror/view@(\S+)", first)
    assert version is not None
    older = first.replace(f"@codemirror/view@{version[1]}", "@codemirror/view@6.0.0")
    others = (bundle_lines(BLOCKS)[0],)
    assert header_problems(older, lock_bytes, sources, others) == [
        f"@codemirror/view@6.0.0 bundled, {version[1]} locked"
    ]
    relocked = lock_bytes.replace(b'"lockfileVersion"', b' "lockfileVersion"', 1)
    assert header_problems(first, relocked, sources, others) == [
        "package-lock.json changed since the bundle was built: run make frontend"
    ]
    assert header_problems(first, lock_bytes, "0" * 64, others) == [
        "frontend/src or build.mjs changed since the bundle was built: make frontend"
    ]
    missing = re.sub(r" crelt@\S+", "", first)
    blocks = bundle_lines(BLOCKS)[0]
    assert header_problems(missing, lock_bytes, sources, (blocks,)) == [
        "crelt is locked but not in the bundle"
    ]
    assert header_problems("var x=1;", lock_bytes, sources)[0].startswith("the first line is not")


def test_package_json_pins_exact_versions() -> None:
    package = json.loads((FRONTEND / "package.json").read_text(encoding="utf-8"))
    locked = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    pins = {**package["dependencies"], **package["devDependencies"]}
    assert "esbuild" in package["devDependencies"]
    for name, spec in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", spec), f"{name}: {spec!r} is a range, not a version"
        assert locked[f"node_modules/{name}"]["version"] == spec


@pytest.mark.parametrize("bundle", [BUNDLE, BLOCKS], ids=["editor", "blocks"])
def test_every_bundled_package_and_its_licence_is_listed(bundle: Path) -> None:
    locked = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    m = HEADER.match(bundle_lines(bundle)[0])
    assert m is not None
    listing = (FRONTEND / "LICENSES.md").read_text(encoding="utf-8")
    text = bundle.read_text(encoding="utf-8")
    licences = text[text.index("/*! Licences of the bundled packages:") :]
    for package in m["packages"].split():
        name, version = package.rsplit("@", 1)
        licence = locked[f"node_modules/{name}"]["license"]
        assert f"| {name} | {version} | {licence} |" in listing
        assert f"{name}@{version} ({licence})" in licences
    if bundle == BUNDLE:  # the MIT text itself, with its copyrights
        assert "Permission is hereby granted" in licences
    else:  # Blockly's Apache-2.0 text
        assert "Apache License" in licences
        assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in licences
    assert "Copyright" in licences


@pytest.mark.parametrize("pattern", [r"https?://[^\s\"'`)\\]+", r"""["'`]//[\w.-]+\.\w+"""])
def test_the_bundle_fetches_nothing_from_outside(pattern: str) -> None:
    text = BUNDLE.read_text(encoding="utf-8")
    code = text[: text.index("/*! Licences of the bundled packages:")]
    found = set(re.findall(pattern, code))
    assert found <= NAMESPACES
    for loader in ("import(", "fetch(", "XMLHttpRequest", "importScripts", "sendBeacon"):
        assert loader not in code
    # one ES module that the workspace page imports
    assert re.search(r"export\{[^}]*\bas createEditor\}", code)


# Blockly's own texts link to its help pages (a "Help" menu item RoboClass removes) and its
# comments to bug reports: links never fetched. Its default media folder is replaced by the
# `media` option (tests/integration/test_blocks.py fails on any request elsewhere).
# Anything else from outside fails.
BLOCKLY_LINKS = re.compile(
    r"https?://(github\.com/(RaspberryPiFoundation|google)/blockly/wiki/"
    r"|developers\.google\.com/blockly/|[a-z]+\.wikipedia\.org/wiki/|www\.december\.com/"
    r"|meyerweb\.com/|randomcolour\.com$|bugzilla\.mozilla\.org/show_bug|c2\.com/cgi/wiki"
    r"|static\.blockly\.com/media/$)"
)
XML_NAMESPACES = NAMESPACES | {"http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml"}


def test_the_blocks_bundle_fetches_nothing_from_outside() -> None:
    text = BLOCKS.read_text(encoding="utf-8")
    code = text[: text.index("/*! Licences of the bundled packages:")]
    found = set(re.findall(r"https?://[^\s\"'`)\\]+", code))
    assert {url for url in found if not BLOCKLY_LINKS.match(url)} <= XML_NAMESPACES
    for loader in ("import(", "XMLHttpRequest", "importScripts", "sendBeacon"):
        assert loader not in code
    assert re.search(r"export\{[^}]*\bas createBlocks\b", code)
    assert re.search(r"export\{[^}]*\bas pythonOf\b", code)


def test_the_blocks_bundle_knows_exactly_the_lessons_block_names() -> None:
    """lessons/blocks.json is the one list: the bundle embeds it and defines each block."""
    names = list(json.loads(BLOCK_NAMES.read_text(encoding="utf-8"))["blocks"])
    source = (FRONTEND / "src" / "blockset.js").read_text(encoding="utf-8")
    toolbox = source[source.index("const TOOLBOX = {") : source.index("const GROUPS")]
    assert re.findall(r"^  (\w+): \[", toolbox, re.M) == names
    text = BLOCKS.read_text(encoding="utf-8")
    for name in names:
        assert f'"{name}"' in text or f"{name}:" in text
