"""The classroom broker: ``roboclass broker``.

Mosquitto's configuration, ACL and certificates (:mod:`~fleet.broker.config`,
:mod:`~fleet.broker.pki`), running Mosquitto (:mod:`~fleet.broker.mosquitto`),
the embedded broker for demos and tests (:mod:`~fleet.broker.embedded`) and a
round-trip check (:mod:`~fleet.broker.roundtrip`). It imports only
:mod:`fleet.core`.
"""
