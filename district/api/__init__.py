"""The district's JSON API, one router per area (``/api/v1/...``).

- :mod:`~district.api.auth`: ``/health``, ``/login``, ``/logout``, ``/me``;
- :mod:`~district.api.schools`: ``/schools`` (list, add a school with its key);
- :mod:`~district.api.results`: ``/results`` (filter by school, lesson, grade
  band, class, challenge), ``/progress/schools``, ``/progress/classes``,
  ``/progress/lessons``;
- :mod:`~district.api.live`: ``/live`` (each room's counts), ``/ingest``
  (what the district took in and refused).

Every route but ``/health`` and ``/login`` needs a staff login
(:data:`district.api.deps.Staff`). The district's pages add their own routers.
"""

from __future__ import annotations

__all__: list[str] = []
