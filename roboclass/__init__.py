"""RoboClass: software for physical-AI labs in schools.

This package is the thin application shell: the ``roboclass`` command, the
settings and the wiring of ``roboclass demo``. The real work lives in the
top-level packages ``hardware``, ``vision``, ``models``, ``lessons``,
``fleet`` and ``firmware_bridge``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
