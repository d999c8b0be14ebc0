"""HTTPS for the console's web pages, with a certificate from the classroom's own CA.

``roboclass console serve --broker-folder DIR/console --tls`` serves the
pages over HTTPS with ``web.crt``/``web.key`` in the console's data folder,
issued (once, and again when a name is missing or it is about to expire) by
the CA that ``roboclass broker config`` made, for the hub's names (the
broker's host names and addresses, this computer's name and ``NAME.local``).
A teacher's browser trusts it after importing that CA (``ca.crt``) once;
``--tls-cert``/``--tls-key`` use a certificate from elsewhere instead.

::

    cert, key = web_certificate(Path("/srv/roboclass/broker"), data_dir, ["hub.local"])
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fleet.broker.config import Layout
from fleet.broker.pki import CertKey, issue
from fleet.core.errors import BrokerError

__all__ = ["hub_names", "web_certificate"]

logger = logging.getLogger(__name__)

#: A web certificate this close to its end is made again.
RENEW_BEFORE = dt.timedelta(days=30)


def hub_names(root: Path, host: str = "") -> list[str]:
    """The names a browser may use for the console: the broker's hosts, this computer's."""
    names: list[str] = []
    settings = Layout(root).settings
    if settings.is_file():
        names += [str(h) for h in json.loads(settings.read_text("utf-8")).get("hosts", [])]
    me = socket.gethostname()
    names += [me, f"{me}.local", "localhost", "127.0.0.1"]
    if host and host not in ("0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        names.insert(0, host)
    return list(dict.fromkeys(n for n in names if n))


def _covers(cert_path: Path, ca: x509.Certificate, names: Sequence[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
    return cert.issuer == ca.subject and fresh and set(names) <= have


def web_certificate(root: Path, out: Path, names: Sequence[str]) -> tuple[Path, Path]:
    """``(certificate, key)`` for the console's HTTPS under ``out``, issued by ``root``'s CA."""
    layout = Layout(root)
    if not layout.ca_key.is_file():
        raise BrokerError(
            f"no classroom CA key in {layout.console}: --tls needs the console's folder "
            "of `roboclass broker config` (--broker-folder DIR/console), or give "
            "--tls-cert and --tls-key"
        )
    if not names:
        raise BrokerError("the web certificate needs at least one host name")
    ca_cert = x509.load_pem_x509_certificate(layout.ca_cert.read_bytes())
    cert_path, key_path = out / "web.crt", out / "web.key"
    if key_path.is_file() and _covers(cert_path, ca_cert, names):
        return cert_path, key_path
    ca_key = serialization.load_pem_private_key(layout.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise BrokerError(f"{layout.ca_key} is not the classroom's EC key")
    leaf = issue(CertKey(ca_cert, ca_key), names[0], server_names=list(names))
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(leaf.key_pem())
    cert_path.write_bytes(leaf.cert_pem())
    logger.info("web certificate for %s issued by the classroom CA", ", ".join(names))
    return cert_path, key_path
