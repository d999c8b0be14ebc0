"""What a client of the classroom broker holds: its folder, read into TLS settings.

``roboclass broker config`` writes one folder per client (``devices/ROBOT/``
and ``console/``); robots and the console read theirs with
:meth:`Credentials.load`. Only the broker side writes these folders
(:mod:`fleet.broker.config`).
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, fields
from pathlib import Path

from fleet.core.errors import BrokerError

__all__ = ["CLIENT_INFO", "Credentials"]

#: The file in a client's folder that says who it is and where the broker is.
CLIENT_INFO = "broker.json"


@dataclass(frozen=True)
class Credentials:
    """How a robot or the console reaches the classroom broker, read from its folder.

    ``roboclass broker config`` writes ``devices/ROBOT/`` and ``console/``;
    each holds ``broker.json``, the CA certificate and the client's own
    certificate and key::

        creds = Credentials.load(Path("/etc/roboclass/broker"))
        client.tls_set_context(creds.tls_context())   # paho-mqtt
        client.connect(creds.host, creds.port)
    """

    identity: str
    site: str
    room: str
    hosts: tuple[str, ...]
    port: int
    ca: Path
    cert: Path
    key: Path

    @property
    def host(self) -> str:
        """The first name the broker's certificate carries: the one to connect to."""
        return self.hosts[0]

    @classmethod
    def load(cls, folder: Path) -> Credentials:
        path = folder / CLIENT_INFO
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BrokerError(
                f"{path} is missing: copy the robot's folder from `roboclass broker config`"
            ) from None
        except ValueError as exc:
            raise BrokerError(f"{path} is not valid JSON: {exc}") from exc
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            got = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise BrokerError(f"{path} must hold exactly {sorted(names)}, not {got}")
        files = {key: folder / str(data[key]) for key in ("ca", "cert", "key")}
        for file in files.values():
            if not file.is_file():
                raise BrokerError(f"{file} is missing (named in {path})")
        return cls(
            identity=str(data["identity"]),
            site=str(data["site"]),
            room=str(data["room"]),
            hosts=tuple(str(h) for h in data["hosts"]),
            port=int(data["port"]),
            **files,
        )

    def tls_context(self) -> ssl.SSLContext:
        """A client TLS context: trusts only the room's CA, checks the host name, shows our certificate."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.cert), str(self.key))
        return context
