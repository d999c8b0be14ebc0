"""The console's FastAPI app: every area's router, enrolment, the pages, the guards."""

from __future__ import annotations

import threading

from fastapi import FastAPI

from fleet.console.api import (
    accounts,
    audit,
    devices,
    estop,
    jobs,
    lessons,
    live,
    periods,
    previews,
    results,
    roster,
    setup,
    shelf,
    student,
    studentruns,
    teach,
    tokens,
)
from fleet.console.api.deps import teacher
from fleet.console.api.districtlib import mount_districtlib
from fleet.console.console import Console
from fleet.console.limits import BodyLimit
from fleet.console.web import mount_pages
from fleet.console.websecurity import CrossSiteGuard
from fleet.core.limits import FailureLimiter
from fleet.enrol.routes import mount_enrol

__all__ = ["create_app"]


def create_app(console: Console) -> FastAPI:
    """The API over ``console``."""
    app = FastAPI(title="RoboClass console", version="1")
    app.state.console = console
    app.state.closing = threading.Event()  # set on close: ends the web page's event streams
    #: Wrong passwords and wrong set-up codes, per name and client.
    app.state.limiter = FailureLimiter(accounts.LOGIN_FAILURES, 60.0)
    app.state.setup_code = setup.new_setup_code()
    app.state.setup_lock = threading.Lock()
    #: Wrong class codes per client, wrong PINs per student and per client.
    app.state.code_limiter = FailureLimiter(student.CODE_FAILURES, 60.0)
    app.state.pin_limiter = FailureLimiter(student.PIN_FAILURES, 60.0)
    #: Each student's last run (the class view): student id -> run, lesson, place, when.
    app.state.last_runs = {}
    #: Students' runs in the simulator (fleet.console.simruns), made at the first Run.
    app.state.simruns = None
    app.state.simruns_lock = threading.Lock()
    areas = (accounts, setup, tokens, devices, roster, audit, jobs, lessons, estop, results)
    for area in (*areas, live, previews, periods, student, studentruns, shelf, teach):
        app.include_router(area.router)
    app.include_router(jobs.bundles)
    mount_districtlib(app, console)  # the district's library and challenges (Lessons page)
    mount_enrol(app, teacher)  # claim, revoke (fleet/enrol/routes.py)
    mount_pages(app)  # the teacher's pages at / (fleet/console/static/)
    app.add_middleware(BodyLimit, routes={"/api/v1/bundles": jobs.MAX_UPLOAD})  # 413 past a cap
    app.add_middleware(CrossSiteGuard)  # cross-site state changes refused; security headers
    return app
