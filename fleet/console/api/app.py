"""The console's FastAPI app: every area's router, enrolment, the pages, the guards."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from fleet.console.api import accounts, audit, devices, estop, jobs, results, roster
from fleet.console.api.deps import teacher
from fleet.console.console import Console
from fleet.console.web import mount_web
from fleet.console.websecurity import CrossSiteGuard, mount_access
from fleet.core.limits import FailureLimiter
from fleet.enrol.routes import mount_enrol

__all__ = ["create_app"]


def create_app(console: Console) -> FastAPI:
    """The API over ``console``."""
    app = FastAPI(title="RoboClass console", version="1")
    app.state.console = console
    app.state.closing = threading.Event()  # set on close: ends the web page's event streams
    app.state.limiter = FailureLimiter(accounts.LOGIN_FAILURES, 60.0)
    for area in (accounts, devices, roster, audit, jobs, estop, results):
        app.include_router(area.router)
    app.include_router(jobs.bundles)
    mount_enrol(app, teacher)  # claim, revoke (fleet/enrol/routes.py)
    mount_web(app, teacher)  # the teacher's pages at / (fleet/console/static/)
    mount_access(app, teacher)  # /session, a teacher's own API tokens
    app.add_middleware(CrossSiteGuard)  # cross-site state changes refused; security headers
    return app
