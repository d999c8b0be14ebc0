"""Chinese and English text for what the ``roboclass`` shell tells people.

Every sentence a user reads exists in both languages. The language comes from
``--lang``, else ``ROBOCLASS_LANG``, else the usual locale variables; Chinese
when the locale starts with ``zh``, English otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["Lang", "Text", "detect_lang"]

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")


@dataclass(frozen=True)
class Text:
    """One sentence in English and Chinese."""

    en: str
    zh: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def format(self, **values: object) -> Text:
        return Text(self.en.format(**values), self.zh.format(**values))


def detect_lang(environ: Mapping[str, str] | None = None) -> Lang:
    """Pick ``"zh"`` or ``"en"`` from the environment.

    >>> detect_lang({"LANG": "zh_CN.UTF-8"})
    'zh'
    >>> detect_lang({"ROBOCLASS_LANG": "en", "LANG": "zh_CN.UTF-8"})
    'en'
    """
    env = os.environ if environ is None else environ
    for name in ("ROBOCLASS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip().lower()
        if value:
            return "zh" if value.startswith("zh") else "en"
    return "en"
