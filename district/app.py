"""The district's FastAPI app: a router per area (``district/api/``).

::

    app = make_app(store, ingest=ingest)      # uvicorn serves it: district.server

The district's pages and their routers (library, challenges) are added by
their own modules onto the same app (``app.include_router``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from district.api import auth, live, results, schools
from district.api.guard import CrossSiteGuard
from district.store import DistrictStore
from fleet.core.limits import FailureLimiter

if TYPE_CHECKING:
    from district.ingest import Ingest

__all__ = ["make_app"]


def make_app(store: DistrictStore, *, ingest: Ingest | None = None) -> FastAPI:
    """The district's API over ``store`` (and the running ``ingest``'s counters)."""
    app = FastAPI(title="RoboClass district", version="1")
    app.state.store = store
    app.state.ingest = ingest
    #: Wrong passwords per name and client.
    app.state.limiter = FailureLimiter(auth.LOGIN_FAILURES, 60.0)
    for area in (auth, schools, results, live):
        app.include_router(area.router)
    app.add_middleware(CrossSiteGuard)  # cross-site state changes refused; security headers
    return app
