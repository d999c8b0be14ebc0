"""The classroom over MQTT, in five parts.

- :mod:`fleet.core`: what both sides speak (protocol, signing, the MQTT
  link, bundles, limits, errors).
- :mod:`fleet.agent`: the robot's agent (jobs, e-stop, results, logs, preview).
- :mod:`fleet.console`: the teacher's console (service, store, API, web pages).
- :mod:`fleet.broker`: the classroom broker (Mosquitto config, ACL, PKI, the
  embedded broker for demos and tests).
- :mod:`fleet.enrol`: claiming a new robot with a short code.

The agent and the console never import each other (tests/unit/test_architecture.py).
"""
