"""The base layer every RoboClass package may use.

It imports nothing else of ours: bilingual text (:mod:`rcbase.i18n`) and
validated YAML files that point at the wrong line (:mod:`rcbase.yamlfile`)
and where RoboClass keeps its files (:mod:`rcbase.paths`).
"""

from __future__ import annotations

from rcbase.i18n import Lang, Text, detect_lang
from rcbase.paths import Paths, paths
from rcbase.yamlfile import ConfigError, load_yaml, parse_yaml

__all__ = [
    "ConfigError",
    "Lang",
    "Paths",
    "Text",
    "detect_lang",
    "load_yaml",
    "parse_yaml",
    "paths",
]
