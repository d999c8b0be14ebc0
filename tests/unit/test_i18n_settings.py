from __future__ import annotations

from pathlib import Path

import pytest

from rcbase.i18n import Text, detect_lang
from rcbase.paths import paths


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US"}, "zh"),
        ({"ROBOCLASS_LANG": "en", "LC_ALL": "zh_CN"}, "en"),
        ({"ROBOCLASS_LANG": "zh"}, "zh"),
        ({"LANG": ""}, "en"),
    ],
)
def test_detect_lang(env: dict[str, str], lang: str) -> None:
    assert detect_lang(env) == lang


def test_text_formats_both_languages() -> None:
    t = Text("{n} robots", "{n} 台机器人").format(n=3)
    assert t("en") == "3 robots"
    assert t("zh") == "3 台机器人"


def test_paths_follow_xdg_and_overrides() -> None:
    p = paths({"XDG_DATA_HOME": "/x/data", "ROBOCLASS_CACHE_DIR": "/c", "HOME": "/h"})
    assert p.data == Path("/x/data/roboclass")
    assert p.cache == Path("/c")
    assert p.config.name == "roboclass"
