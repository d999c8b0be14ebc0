"""The console's JSON API (FastAPI), served by uvicorn in a thread; a router per area.

Every ``/api/v1`` route but ``health``, ``login`` and ``setup`` needs
``Authorization: Bearer TOKEN``: a token from ``POST /api/v1/login`` (teacher
name and password; it lasts ``ConsoleConfig.session_ttl_s``, 12 h by default,
and ``POST /api/v1/logout`` revokes it) or an API token made with
``roboclass console token`` or on the console's page (no expiry; each acts as
one teacher, who alone can list and revoke it: ``/api/v1/tokens``). The page
itself logs in with ``"session": "cookie"``: the token then lives in an
HttpOnly, SameSite=Strict cookie, and cross-site state changes are refused
(:mod:`fleet.console.websecurity`). After 5 wrong passwords in a minute
for one name from one client, login answers 429 until the minute is over.

The areas, a router each: :mod:`~fleet.console.api.accounts` (health, login,
logout), :mod:`~fleet.console.api.setup` (the first teacher),
:mod:`~fleet.console.api.tokens` (the session, API tokens),
:mod:`~fleet.console.api.devices`, :mod:`~fleet.console.api.roster`,
:mod:`~fleet.console.api.jobs` (bundles, pushes, jobs),
:mod:`~fleet.console.api.shelf` (the model shelf and its push),
:mod:`~fleet.console.api.lessons`, :mod:`~fleet.console.api.results`
(results, CSV and xAPI exports, counters), :mod:`~fleet.console.api.estop`,
:mod:`~fleet.console.api.audit`, :mod:`~fleet.console.api.live` (the room,
logs; Server-Sent Events from :mod:`~fleet.console.api.streams`) and
:mod:`~fleet.console.api.previews`; enrolment's routes are
:mod:`fleet.enrol.routes`, the pages :mod:`fleet.console.web`. What the
routes share (the console, the teacher, the result filters) is in
:mod:`~fleet.console.api.deps`; bodies and answers in
:mod:`~fleet.console.api.models`, so ``/openapi.json`` documents them.

Students are pseudonymous (:mod:`fleet.console.store.rosters`): results carry ``student``
(the display name), ``student_id`` (the pseudonym) and ``roster`` (the
class). ``POST /api/v1/rosters/{roster}/purge`` deletes a class's data.
Pushes (of lessons and models), stops, clearing a stop (``POST /api/v1/estop/clear``;
``/api/v1/release`` is its old name, deprecated), cancels, purges, camera
previews, a class's camera switch and API tokens go into the audit log (``GET /api/v1/audit``).

::

    with ApiServer(console, port=8080) as server:
        print(server.url)
"""

from __future__ import annotations

from fleet.console.api.app import create_app
from fleet.console.api.deps import client_key
from fleet.console.api.server import ApiServer

__all__ = ["ApiServer", "client_key", "create_app"]
