"""The district library's signed items, checked without a district: signatures, kinds,
bundles by sha256, a school's submission, a challenge's tries; the district pages' words."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import pytest

from district.api.guard import refusal
from district.library import LibraryError, describe
from district.web import STATIC
from fleet.console.districttries import tries_of
from fleet.console.store import Result
from fleet.core.districtlib import (
    Bilingual,
    ChallengeNotice,
    LibraryEntry,
    Submission,
    bundle_reason,
    check,
    school_reason,
    sign,
    submission_reason,
)
from fleet.core.protocol import Status
from fleet.core.signing import SigningKey
from lessons import pack_bundle
from lessons.library import LIBRARY


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return SigningKey.load_or_create(tmp_path / "district.pem")


def entry_of(data: bytes, origin: str = "district") -> LibraryEntry:
    return describe(data, origin, now=1000.0)


def test_an_entry_names_its_bundle_by_sha256_and_the_district_signs_it(
    key: SigningKey, tmp_path: Path
) -> None:
    data = pack_bundle(LIBRARY / "line-follower")
    entry = entry_of(data)
    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.size == len(data)
    assert (entry.lesson_id, entry.band, entry.grades) == ("line-follower", "apply", (4, 9))
    assert entry.challenge is not None and entry.challenge.metric == "lap_time_s"
    trusted = {key.kid: key.public_key}
    assert check(entry, trusted) == "not signed / 没有签名"
    signed = sign(key, entry)
    assert check(signed, trusted) is None
    for change in ({"sha256": "0" * 64}, {"size": entry.size + 1}, {"origin": "futian-02"},
                   {"title": Bilingual(en="Other", zh="别的")}):  # fmt: skip
        assert "bad signature" in (check(signed.model_copy(update=change), trusted) or "")
    other = SigningKey.load_or_create(tmp_path / "other.pem")
    assert "unknown key" in (check(sign(other, entry), trusted) or "")
    assert bundle_reason(signed, data) is None
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0xFF
    assert "sha256" in (bundle_reason(signed, bytes(tampered)) or "")
    assert "bytes" in (bundle_reason(signed, data + b"\0") or "")


def test_one_kind_of_signature_never_passes_for_another(key: SigningKey) -> None:
    entry = sign(key, entry_of(pack_bundle(LIBRARY / "line-follower")))
    notice = sign(
        key,
        ChallengeNotice(
            id="c-0123456789ab",
            title=entry.title,
            lesson=entry,
            rule=entry.challenge,
            starts=1000.0,
            ends=2000.0,
        ),
    )
    assert check(notice, {key.kid: key.public_key}) is None
    assert notice.signed_bytes().startswith(b"roboclass/challenge/v1\n")
    assert entry.signed_bytes().startswith(b"roboclass/library-entry/v1\n")
    # the entry's signature on a challenge's bytes, and the other way round, fail
    assert check(notice.model_copy(update={"sig": entry.sig}), {key.kid: key.public_key})
    assert check(entry.model_copy(update={"sig": notice.sig}), {key.kid: key.public_key})


def test_what_is_not_a_lesson_is_refused_with_what_to_do() -> None:
    with pytest.raises(LibraryError, match="roboclass lesson pack") as refused:
        describe(b"\x1f\x8b not really a bundle", "district")
    assert "课程" in refused.value.text.zh
    with pytest.raises(LibraryError, match="1 byte"):
        describe(b"", "district")


def test_a_schools_submission_is_its_own_signed_bytes(key: SigningKey, tmp_path: Path) -> None:
    school = SigningKey.load_or_create(tmp_path / "school.pem")
    data = pack_bundle(LIBRARY / "draw-a-square")
    sub = Submission(school="binhai-01", sha256=hashlib.sha256(data).hexdigest(),
                     size=len(data), issued=time.time())  # fmt: skip
    signed = sign(school, sub)
    assert submission_reason(signed, data, school.public_key) is None
    assert "not registered" in (submission_reason(signed, data, None) or "")
    assert "unknown key" in (submission_reason(signed, data, key.public_key) or "")
    assert "not the ones signed" in (
        submission_reason(signed, data + b"x", school.public_key) or ""
    )
    late = sign(school, sub.model_copy(update={"issued": time.time() - 3600}))
    assert "clock" in (school_reason(late, school.public_key) or "")
    assert "bad signature" in (
        school_reason(signed.model_copy(update={"school": "futian-02"}), school.public_key) or ""
    )


def result(rid: str, student: str | None, value: Any, *, handin: bool = True,
           status: str = "passed", lesson: str = "laps", at: float = 1500.0) -> Result:  # fmt: skip
    graded = {"status": status, "metrics": {"lap_time_s": value}}
    return Result(result_id=rid, job=f"j-{rid}", device="simulator", student_id=student,
                  lesson_id=lesson, status=Status.SUCCEEDED, score=80.0, result=graded,
                  received=at, student=None, roster="4a", handin="h" if handin else None)  # fmt: skip


def test_a_challenges_tries_are_passed_hand_ins_of_its_lesson_while_it_is_open(
    key: SigningKey,
) -> None:
    entry = sign(key, entry_of(pack_bundle(LIBRARY / "line-follower")))
    entry = entry.model_copy(update={"lesson_id": "laps"})
    notice = ChallengeNotice(id="c-0123456789ab", title=entry.title, lesson=entry,
                             rule=entry.challenge, starts=1000.0, ends=2000.0)  # fmt: skip
    results = [
        result("r1", "s-ann", 12.5),
        result("r2", "s-ann", 11.0, handin=False),  # a push of the starter, not a hand-in
        result("r3", "s-ann", 9.0, status="failed"),
        result("r4", "s-bo", "fast"),  # no number
        result("r5", "s-bo", 13.0, lesson="other"),
        result("r6", "s-bo", 10.0, at=2500.0),  # after it ended
        result("r7", None, 10.0),  # nobody's
        result("r8", "s-bo", 14.0),
    ]
    found = tries_of(notice, results, "lab-1", lambda sid: f"p-{sid.encode().hex():0>16}"[:18])
    assert [(t.result_id, t.value, t.class_, t.room) for t in found] == [
        ("r1", 12.5, "4a", "lab-1"), ("r8", 14.0, "4a", "lab-1"),
    ]  # fmt: skip
    assert all(re.fullmatch(r"p-[0-9a-f]{16}", t.student) for t in found)


def test_a_schools_console_posting_to_the_library_is_not_taken_for_cross_site() -> None:
    def scope(method: str, path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"type": "http", "method": method, "path": path, "scheme": "http",
                "headers": [(b"host", b"district:8090"), *headers]}  # fmt: skip

    for path in ("/api/v1/library/submissions", "/api/v1/library/challenges/c-1/tries"):
        assert refusal(scope("POST", path)) is None  # no cookie, no browser: its signature counts
    assert refusal(scope("POST", "/api/v1/library/publish", (b"cookie", b"rc_district=x")))
    assert refusal(scope("POST", "/api/v1/challenges", (b"sec-fetch-site", b"cross-site")))


def test_every_label_of_the_district_pages_exists_in_both_languages() -> None:
    tables = {}
    for lang in ("en", "zh"):
        text = (STATIC / f"i18n-{lang}.js").read_text(encoding="utf-8")
        tables[lang] = re.findall(r'^\s+"([a-zA-Z.0-9]+)":', text, re.MULTILINE)
        assert len(tables[lang]) == len(set(tables[lang])), lang
    assert set(tables["en"]) == set(tables["zh"])
    used: set[str] = set()
    for path in STATIC.glob("*.js"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(["`]([a-zA-Z]+\.[a-zA-Z.0-9]+)["`]', source))
    used |= set(
        re.findall(r'data-i18n(?:-aria)?="([a-zA-Z.]+)"', (STATIC / "index.html").read_text())
    )
    assert len(used) > 60
    assert used <= set(tables["en"]), sorted(used - set(tables["en"]))
    page = (STATIC / "index.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script>" not in page
    assert " style=" not in page  # the CSP allows no inline styles
