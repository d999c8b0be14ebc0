"""The school's side of the district's lesson library and challenges, over HTTP.

The console asks the district (the URL in the school's district settings,
:mod:`fleet.console.district`) for its library and open challenges when a
teacher opens the Lessons page, imports a lesson the teacher picks, and
shares one of the teacher's own lessons up for review. Everything the
district says is checked here:

- the district's public key is pinned the first time (``district-key.txt``
  in the console's data folder, its key id shown on the page); a different
  key later is refused until a person removes that file;
- every entry and challenge must carry the pinned key's signature; the
  bundle's bytes must match the signed size and sha256 before they are
  unpacked (with every check of :func:`lessons.bundle.unpack_bundle`);
- an imported lesson goes into the teacher's lessons folder (where
  :func:`lessons.library.find_lesson` looks first) and the console's bundle
  store (so it can be pushed to robots by sha256); it never replaces a
  built-in lesson or a teacher's own lesson of the same id.

When the district cannot be reached, :class:`~fleet.core.errors.DistrictLibError`
says so (503) and nothing else on the console changes::

    lib = DistrictLib(url, "binhai-01", console.config.data_dir, console.key,
                      console.bundles, paths().data / "lessons")
    view = lib.catalogue()          # entries (checked), open challenges, the key id
    lib.import_lesson(view.entries[0].sha256)
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fleet.core.bundles import BundleStore
from fleet.core.districtlib import (
    MAX_LIBRARY_BUNDLE,
    SUBMISSION_HEADER,
    ChallengeNotice,
    ChallengeTries,
    LibraryEntry,
    Submission,
    bundle_reason,
    check,
    sign,
)
from fleet.core.errors import DistrictLibError
from fleet.core.signing import SigningKey, key_id, load_public_key, public_key_text
from rcbase import files
from rcbase.i18n import Text

__all__ = ["Catalogue", "DistrictLib"]

logger = logging.getLogger(__name__)

#: How long the page waits for the district's answer before saying it cannot be reached.
TIMEOUT_S = 5.0
#: A bundle's download.
BUNDLE_TIMEOUT_S = 60.0
_MAX_JSON = 4 * 1024 * 1024
KEY_FILE = "district-key.txt"
IMPORTED_FILE = "district-lessons.json"
CHALLENGES_FILE = "district-challenges.json"


def _error(status: int, en: str, zh: str) -> DistrictLibError:
    return DistrictLibError(status, Text(en, zh))


@dataclass
class Catalogue:
    """What the district offers now, checked: lessons, open challenges, what was left out."""

    kid: str
    entries: list[LibraryEntry] = field(default_factory=list)
    challenges: list[ChallengeNotice] = field(default_factory=list)
    refused: int = 0


class DistrictLib:
    """The district's library seen from one school's console."""

    def __init__(
        self,
        url: str,
        school: str,
        data_dir: Path,
        key: SigningKey,
        bundles: BundleStore,
        lessons_root: Path,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise _error(
                400,
                f"the district's address {url!r} must start with http:// or https://",
                f"区级平台地址 {url!r} 必须以 http:// 或 https:// 开头",
            )
        self.url = url.rstrip("/")
        self.school = school
        self.data_dir = data_dir
        self.key = key
        self.bundles = bundles
        self.lessons_root = lessons_root
        self._tls = tls

    # -- HTTP ---------------------------------------------------------------------------

    def _open(self, path: str, timeout: float, data: bytes | None = None, **headers: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 - http(s) checked in __init__
            f"{self.url}{path}", data=data, headers=headers, method="POST" if data else "GET"
        )
        try:
            return urllib.request.urlopen(request, timeout=timeout, context=self._tls)  # noqa: S310
        except urllib.error.HTTPError as exc:
            detail = _detail(exc)
            raise _error(
                502 if exc.code >= 500 else 409,
                f"the district said no ({exc.code}): {detail}",
                f"区级平台拒绝了（{exc.code}）：{detail}",
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise _error(
                503,
                f"the district ({self.url}) cannot be reached: {_reason(exc)}. Everything on "
                "this console keeps working; try again when the school's link is back",
                f"连不上区级平台（{self.url}）：{_reason(exc)}。本控制台的其他功能照常可用；"
                "学校网络恢复后再试",
            ) from exc

    def _json(self, path: str) -> dict[str, Any]:
        with self._open(path, TIMEOUT_S, Accept="application/json") as response:
            body = response.read(_MAX_JSON + 1)
        if len(body) > _MAX_JSON:
            raise _error(502, "the district's answer is too large", "区级平台的回答太大")
        try:
            answer: object = json.loads(body)
        except ValueError as exc:
            raise _error(
                502, "the district's answer is not JSON", "区级平台的回答不是 JSON"
            ) from exc
        if not isinstance(answer, dict):
            raise _error(502, "the district's answer is not an object", "区级平台的回答格式不对")
        found: dict[str, Any] = answer
        return found

    # -- the district's key ---------------------------------------------------------------

    def district_key(self) -> dict[str, Any]:
        """The district's public key: pinned the first time, the same one every time after."""
        pinned = self.data_dir / KEY_FILE
        answer = self._json("/api/v1/library/key")
        try:
            offered = load_public_key(str(answer.get("public_key", "")))
        except Exception as exc:
            raise _error(
                502, f"the district's key is not a key: {exc}", "区级平台的公钥格式不对"
            ) from exc
        if pinned.exists():
            known = load_public_key(pinned.read_text(encoding="utf-8"))
            if key_id(known) != key_id(offered):
                raise _error(
                    502,
                    f"the district's key changed ({key_id(known)} -> {key_id(offered)}): if the "
                    f"district really changed it, ask them, then delete {pinned}",
                    f"区级平台的公钥变了（{key_id(known)} -> {key_id(offered)}）：请先向区里"
                    f"确认，然后删除 {pinned}",
                )
        else:
            files.write_atomic(pinned, (public_key_text(offered) + "\n").encode(), 0o644)
            logger.warning(
                "district key %s pinned (first contact with %s)", key_id(offered), self.url
            )
        return {"kid": key_id(offered), "key": offered}

    # -- browsing ---------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        """The district's lessons and open challenges, each checked against its key; anything
        unsigned, signed by another key or malformed is left out (counted, logged)."""
        key = self.district_key()
        trusted = {key["kid"]: key["key"]}
        found = Catalogue(kid=key["kid"])
        for raw in _items(self._json("/api/v1/library"), "lessons"):
            entry = _checked(LibraryEntry, raw, trusted)
            if entry is None:
                found.refused += 1
            else:
                found.entries.append(entry)
        for raw in _items(self._json("/api/v1/library/challenges"), "challenges"):
            notice = _checked(ChallengeNotice, raw, trusted)
            if notice is None or check(notice.lesson, trusted) is not None:
                found.refused += 1
            else:
                found.challenges.append(notice)
        return found

    # -- importing ---------------------------------------------------------------------------

    def imported(self) -> dict[str, dict[str, Any]]:
        """Lessons imported from the district: lesson id -> its signed entry and when."""
        path = self.data_dir / IMPORTED_FILE
        if not path.exists():
            return {}
        try:
            data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            logger.warning("%s is damaged: the district lessons it named stay, unlisted", path)
            return {}
        return data

    def import_lesson(self, sha256: str) -> LibraryEntry:
        """Fetch, check and install the library's lesson ``sha256``; its entry."""
        entry = next((e for e in self.catalogue().entries if e.sha256 == sha256), None)
        if entry is None:
            raise _error(
                404,
                f"no lesson {sha256[:12]} in the district's library (or not signed by it)",
                f"区级课程库里没有课程 {sha256[:12]}（或没有区里的签名）",
            )
        return self.install(entry, self._bundle(entry))

    def _bundle(self, entry: LibraryEntry) -> bytes:
        with self._open(f"/api/v1/library/bundles/{entry.sha256}", BUNDLE_TIMEOUT_S) as response:
            data: bytes = response.read(entry.size + 1)
        return data

    def install(self, entry: LibraryEntry, data: bytes) -> LibraryEntry:
        """Put ``data`` (``entry``'s bundle, checked here first) in the teacher's lessons."""
        from lessons import LessonError, load_lesson  # noqa: PLC0415 - when a lesson comes
        from lessons.bundle import unpack_bundle  # noqa: PLC0415
        from lessons.library import LIBRARY  # noqa: PLC0415

        reason = bundle_reason(entry, data)
        if reason is not None:
            logger.warning("district lesson %s refused: %s", entry.lesson_id, reason)
            en, _, zh = reason.partition(" / ")
            raise DistrictLibError(502, Text(en, zh or en))
        target = self.lessons_root / entry.lesson_id
        if (LIBRARY / entry.lesson_id).exists():
            raise _error(
                409,
                f"{entry.lesson_id} is a built-in lesson's name: ask the district to rename theirs",
                f"{entry.lesson_id} 与内置课程同名：请区里给课程换个名字",
            )
        if target.exists() and entry.lesson_id not in self.imported():
            raise _error(
                409,
                f"you have your own lesson {entry.lesson_id}: rename its folder {target} first",
                f"你已有自己的课程 {entry.lesson_id}：请先给文件夹 {target} 改名",
            )
        self.lessons_root.mkdir(parents=True, exist_ok=True)
        fresh = Path(
            tempfile.mkdtemp(prefix=f".district-{entry.lesson_id}-", dir=self.lessons_root)
        )
        try:
            lesson = load_lesson(
                unpack_bundle(data, fresh / "lesson", expected_sha256=entry.sha256)
            )
        except LessonError as exc:
            shutil.rmtree(fresh, ignore_errors=True)
            raise _error(
                502, f"the district's lesson is broken: {exc}", f"区里的课程有问题：{exc}"
            ) from exc
        if lesson.id != entry.lesson_id:
            shutil.rmtree(fresh, ignore_errors=True)
            raise _error(
                502,
                f"the district's bundle holds lesson {lesson.id}, not {entry.lesson_id}",
                f"区里的课程包里是 {lesson.id}，不是 {entry.lesson_id}",
            )
        for path in (fresh, *fresh.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)  # the sandbox's user reads it
        old = self.lessons_root / f".old-{entry.lesson_id}-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(fresh / "lesson", target)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)
        self.bundles.put(data)
        kept = self.imported()
        kept[entry.lesson_id] = {"entry": entry.model_dump(mode="json"), "imported": time.time()}
        files.write_atomic(
            self.data_dir / IMPORTED_FILE, json.dumps(kept, indent=1).encode(), 0o644
        )
        logger.info("imported district lesson %s (%s)", entry.lesson_id, entry.sha256[:12])
        return entry

    # -- sharing up ---------------------------------------------------------------------------

    def own_lessons(self) -> list[str]:
        """The teacher's own lessons (not imported from the district): what can be shared."""
        imported = self.imported()
        if not self.lessons_root.is_dir():
            return []
        return sorted(
            p.parent.name
            for p in self.lessons_root.glob("*/lesson.yaml")
            if not p.parent.name.startswith(".") and p.parent.name not in imported
        )

    def share(self, lesson_id: str, note: str) -> dict[str, Any]:
        """Send the teacher's own lesson ``lesson_id`` to the district for review, signed by
        this console's key; the district's answer (its review state)."""
        from lessons import LessonError, pack_bundle  # noqa: PLC0415 - when one is shared

        if lesson_id not in self.own_lessons():
            raise _error(
                404,
                f"{lesson_id} is not one of your own lessons (in {self.lessons_root})",
                f"{lesson_id} 不是你自己的课程（在 {self.lessons_root}）",
            )
        try:
            data = pack_bundle(self.lessons_root / lesson_id)
        except LessonError as exc:
            raise _error(
                400, f"cannot pack {lesson_id}: {exc}", f"无法打包 {lesson_id}：{exc}"
            ) from exc
        if len(data) > MAX_LIBRARY_BUNDLE:
            raise _error(413, f"{lesson_id} is too large to share", f"{lesson_id} 太大，无法分享")
        sub = sign(
            self.key,
            Submission(
                school=self.school,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                note=note[:500],
                issued=time.time(),
            ),
        )
        header = base64.b64encode(sub.model_dump_json().encode()).decode()
        with self._open(
            "/api/v1/library/submissions",
            BUNDLE_TIMEOUT_S,
            data,
            **{"Content-Type": "application/octet-stream", SUBMISSION_HEADER: header},
        ) as response:
            answer: dict[str, Any] = json.loads(response.read(_MAX_JSON))
        logger.info("shared %s with the district for review", lesson_id)
        return answer

    # -- challenges ---------------------------------------------------------------------------

    def open_challenge(self, challenge_id: str) -> ChallengeNotice:
        """Import a district challenge's lesson and remember the challenge as open in this
        school (results handed in for its lesson while it is open name it)."""
        notice = next((c for c in self.catalogue().challenges if c.id == challenge_id), None)
        if notice is None:
            raise _error(
                404,
                f"no open district challenge {challenge_id}",
                f"没有正在进行的区级挑战赛 {challenge_id}",
            )
        entry = notice.lesson
        if self.imported().get(entry.lesson_id, {}).get("entry", {}).get("sha256") != entry.sha256:
            self.install(entry, self._bundle(entry))
        kept = self.challenges()
        kept[notice.id] = notice.model_dump(mode="json")
        files.write_atomic(
            self.data_dir / CHALLENGES_FILE, json.dumps(kept, indent=1).encode(), 0o644
        )
        return notice

    def send_tries(self, tries: ChallengeTries) -> dict[str, int]:
        """Send a challenge's signed tries; the district's count (stored, already, outside)."""
        body = tries.model_dump_json(by_alias=True).encode()
        with self._open(
            f"/api/v1/library/challenges/{tries.challenge}/tries",
            TIMEOUT_S,
            body,
            **{"Content-Type": "application/json"},
        ) as response:
            answer: dict[str, int] = json.loads(response.read(_MAX_JSON))
        return answer

    def challenges(self) -> dict[str, dict[str, Any]]:
        """District challenges opened in this school: id -> the signed notice."""
        path = self.data_dir / CHALLENGES_FILE
        try:
            data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def challenge_for(self, lesson_id: str, at: float) -> str | None:
        """The district challenge a hand-in of ``lesson_id`` at ``at`` belongs to, if any."""
        for cid, notice in self.challenges().items():
            lesson = notice.get("lesson", {})
            if lesson.get("lesson_id") == lesson_id and notice["starts"] <= at < notice["ends"]:
                return cid
        return None


def _items(answer: dict[str, Any], key: str) -> list[Any]:
    found = answer.get(key, [])
    return found if isinstance(found, list) else []


def _checked(kind: type[Any], raw: Any, trusted: dict[str, Any]) -> Any:
    try:
        item = kind.model_validate(raw)
    except ValidationError as exc:
        logger.warning("district %s left out: malformed (%s)", kind.__name__, exc.error_count())
        return None
    reason = check(item, trusted)
    if reason is not None:
        logger.warning("district %s left out: %s", kind.__name__, reason)
        return None
    return item


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        detail = json.loads(exc.read(64 * 1024)).get("detail")
    except (ValueError, AttributeError, OSError):
        return exc.reason or str(exc.code)
    return str(detail)[:300] if detail else str(exc.code)


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    return str(inner if inner is not None else exc)
