"""What the robot's agent and the teacher's console both speak.

The protocol's messages and topics (:mod:`~fleet.core.protocol`), signed jobs
(:mod:`~fleet.core.signing`), the MQTT connection (:mod:`~fleet.core.link`),
lesson and model bundles (:mod:`~fleet.core.bundles`,
:mod:`~fleet.core.modelpush`), limits (:mod:`~fleet.core.limits`), the broker
a client reaches (:mod:`~fleet.core.credentials`,
:mod:`~fleet.core.brokerlink`) and the errors (:mod:`~fleet.core.errors`).
It imports nothing else of ``fleet``.
"""
