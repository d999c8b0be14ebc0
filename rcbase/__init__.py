"""The base layer every RoboClass package may use.

It imports nothing else of ours: bilingual text (:mod:`rcbase.i18n`) and
validated YAML files that point at the wrong line (:mod:`rcbase.yamlfile`).
"""

from __future__ import annotations

from rcbase.i18n import Lang, Text, detect_lang
from rcbase.yamlfile import ConfigError, load_yaml, parse_yaml

__all__ = ["ConfigError", "Lang", "Text", "detect_lang", "load_yaml", "parse_yaml"]
