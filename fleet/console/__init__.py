"""The teacher's side of the classroom: ``roboclass console`` and ``roboclass fleet``.

The service (:mod:`~fleet.console.console`), its store, the JSON API and the
web pages. It imports :mod:`fleet.core`, :mod:`fleet.enrol` and
:mod:`fleet.broker`, never the agent.
"""
