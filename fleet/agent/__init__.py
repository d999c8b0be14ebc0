"""The robot's side of the classroom: ``roboclass agent``.

:class:`fleet.agent.agent.Agent` takes signed jobs from the console, runs
them, keeps results in an outbox until the console has them, obeys the
e-stop and sends a live preview while the teacher asks for one. It wires a
few parts, each a module with one job: the job worker
(:mod:`~fleet.agent.worker`) and what runs one job (:mod:`~fleet.agent.jobs`),
the e-stop latch (:mod:`~fleet.agent.estop`), the robot lease
(:mod:`~fleet.agent.lease`), the result sender (:mod:`~fleet.agent.results`,
over :mod:`~fleet.agent.outbox`), the log forwarder (:mod:`~fleet.agent.logs`),
the offline watch (:mod:`~fleet.agent.offline`), identify and preflight
(:mod:`~fleet.agent.errands`) and the preview (:mod:`~fleet.agent.preview`).
It imports only :mod:`fleet.core` and :mod:`fleet.enrol`.
"""
