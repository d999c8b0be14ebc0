"""The robot's side of the classroom: ``roboclass agent``.

:class:`fleet.agent.agent.Agent` takes signed jobs from the console, runs
them, keeps results in an outbox until the console has them, obeys the
e-stop and sends a live preview while the teacher asks for one. It imports
only :mod:`fleet.core` and :mod:`fleet.enrol`.
"""
