"""The district: many schools on one shared platform (docs/district.md).

Each school's console signs what it sends (pseudonymous results, live counts);
its broker's Mosquitto bridge carries it to the district's broker; the
district checks each message against the key registered for its school and
stores it once in PostgreSQL. Schools keep working on their own LAN when the
link is down. Parts:

- :mod:`district.store` (``DistrictStore``: PostgreSQL, a store per domain,
  :mod:`district.migrate`), :mod:`district.results`, :mod:`district.staff`;
- :mod:`district.ingest` (the MQTT side: check, batch, store once);
- :mod:`district.app` and :mod:`district.api` (the JSON API),
  :mod:`district.server` (uvicorn in a thread);
- :mod:`district.broker` (the district broker's configuration, the schools'
  certificates) and :mod:`district.cli` (``roboclass district ...``).

``district`` may import ``fleet.core`` and ``fleet.broker``, never the console
or the agent.
"""

from __future__ import annotations

from district.errors import DistrictError, SchemaTooNew, SchoolError, StaffError, StoreError

__all__ = ["DistrictError", "SchemaTooNew", "SchoolError", "StaffError", "StoreError"]
