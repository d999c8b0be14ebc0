"""Enrolment: a new robot is claimed from the console with a short code.

The robot side (:mod:`fleet.enrol.robot`), the console side
(:mod:`fleet.enrol.console`), the exchange both speak
(:mod:`fleet.enrol.protocol`), mDNS (:mod:`fleet.enrol.mdns`) and the
console's routes (:mod:`fleet.enrol.routes`). This module itself stays light
(no imports): the agent reads these constants on every start.
"""

#: The port a robot waiting to be claimed listens on.
ENROL_PORT = 8764
#: The console's public key, as enrolment saves it in the robot's folder.
CONSOLE_KEY_FILE = "console.pub"
