"""A robot's credential folder: empty, waiting to be claimed, or configured.

While the robot waits, the folder keeps its own key (``pending.key``, 0600),
its id and claim code (``claim.json``, 0600, replaced after
``MAX_FAILURES`` wrong tries) and a label to print (``claim-label.txt``).
:meth:`CredentialFolder.install` checks the console's grant and writes the
credentials the way ``roboclass broker config`` writes a robot's folder;
:meth:`~CredentialFolder.leave_room` and :meth:`~CredentialFolder.reassign`
forget the room or take a new name. The server that hands out the code is
:mod:`fleet.enrol.robot`::

    folder = CredentialFolder(Path("/var/lib/roboclass/agent/credentials"))
    claim = folder.claim()   # made on first use, kept across reboots
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleet.core.credentials import CLIENT_INFO
from fleet.core.protocol import Reassign
from fleet.enrol import CONSOLE_KEY_FILE
from fleet.enrol.protocol import BadMessage, Grant, new_claim_code, new_robot_id
from rcbase.files import PRIVATE, write_atomic

__all__ = ["MAX_FAILURES", "Claim", "CredentialFolder", "label_text"]

logger = logging.getLogger(__name__)

#: Wrong or unfinished exchanges before the robot makes a new code.
MAX_FAILURES = 100


@dataclass(frozen=True)
class Claim:
    """Who the unclaimed robot is and the code that claims it."""

    robot_id: str
    code: str
    failures: int = 0


class CredentialFolder:
    """A robot's credential folder: empty, waiting to be claimed, or configured."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def configured(self) -> bool:
        return (self.path / CLIENT_INFO).is_file()

    @property
    def _claim_file(self) -> Path:
        return self.path / "claim.json"

    @property
    def _key_file(self) -> Path:
        return self.path / "pending.key"

    @property
    def label_file(self) -> Path:
        return self.path / "claim-label.txt"

    def _prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.path.chmod(0o700)

    def claim(self) -> Claim:
        """The robot's id and claim code, made on first use."""
        self._prepare()
        try:
            data = json.loads(self._claim_file.read_text(encoding="utf-8"))
            return Claim(str(data["robot_id"]), str(data["code"]), int(data["failures"]))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return self._save(Claim(new_robot_id(), new_claim_code()))

    def new_code(self) -> Claim:
        """A fresh code (same id); the old one stops working."""
        return self._save(Claim(self.claim().robot_id, new_claim_code()))

    def count_failure(self) -> Claim:
        """One more wrong or unfinished exchange; a new code after ``MAX_FAILURES``."""
        claim = self.claim()
        if claim.failures + 1 >= MAX_FAILURES:
            logger.warning("%d wrong claim tries: a new claim code", MAX_FAILURES)
            return self.new_code()
        return self._save(Claim(claim.robot_id, claim.code, claim.failures + 1))

    def _save(self, claim: Claim) -> Claim:
        data = {"robot_id": claim.robot_id, "code": claim.code, "failures": claim.failures}
        write_atomic(self._claim_file, json.dumps(data).encode(), PRIVATE)
        write_atomic(self.label_file, label_text(claim).encode(), PRIVATE)
        return claim

    def key(self) -> ec.EllipticCurvePrivateKey:
        """This robot's own key, made here once; it never leaves the robot."""
        self._prepare()
        try:
            loaded = serialization.load_pem_private_key(self._key_file.read_bytes(), None)
        except (FileNotFoundError, ValueError):
            loaded = None
        if isinstance(loaded, ec.EllipticCurvePrivateKey):
            return loaded
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(self._key_file, pem, PRIVATE)
        return key

    def csr(self, robot_id: str) -> bytes:
        """A signing request for our key (PEM); the console names the robot, not us."""
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, robot_id)]))
            .sign(self.key(), hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM)

    def install(self, grant: Grant) -> None:
        """Check the grant against our key and its CA, then write the credentials.

        ``broker.json`` is written last: a folder is configured only once
        everything else is in place.
        """
        key = self.key()
        try:
            cert = x509.load_pem_x509_certificate(grant.cert.encode())
            ca = x509.load_pem_x509_certificate(grant.ca.encode())
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError) as exc:
            raise BadMessage(f"the certificate in the grant is not from its CA: {exc}") from None
        if cert.public_key() != key.public_key():
            raise BadMessage("the certificate in the grant is not for this robot's key")
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [n.value for n in names] != [grant.identity]:
            raise BadMessage(f"the certificate does not name {grant.identity}")
        name = grant.identity
        write_atomic(self.path / f"{name}.crt", grant.cert.encode())
        write_atomic(self.path / "ca.crt", grant.ca.encode())
        write_atomic(self.path / CONSOLE_KEY_FILE, (grant.console_key + "\n").encode())
        self._key_file.replace(self.path / f"{name}.key")
        info = {
            "identity": name,
            "site": grant.site,
            "room": grant.room,
            "hosts": grant.hosts,
            "port": grant.port,
            "ca": "ca.crt",
            "cert": f"{name}.crt",
            "key": f"{name}.key",
        }
        write_atomic(self.path / CLIENT_INFO, (json.dumps(info, indent=2) + "\n").encode())
        for done in (self._claim_file, self.label_file):
            done.unlink(missing_ok=True)

    def release(self) -> bool:
        """Deprecated name of :meth:`leave_room` (kept for one release)."""
        warnings.warn(
            "CredentialFolder.release() is now leave_room() / 已改名为 leave_room()",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.leave_room()

    def leave_room(self) -> bool:
        """Forget this room: the robot is moving to another. False, logged, if not configured.

        ``broker.json`` goes first, so the folder counts as unconfigured even
        if removing the rest fails; the robot then makes a new key and a new
        claim code for the next room's teacher.
        """
        if not self.configured:
            logger.warning("asked to forget a room, but this robot has none")
            return False
        (self.path / CLIENT_INFO).unlink()
        for leftover in self.path.iterdir():
            if leftover.is_file():
                leftover.unlink()
        logger.warning("this robot forgot its room: it waits to be claimed again")
        return True

    def reassign(self, message: Reassign) -> bool:
        """Take the new name the console sent (renaming); False, logged, if it does not check out.

        The new certificate must come from our CA, be for our own key and
        name ``message.name``: only the console holds the CA key.
        """
        info_path = self.path / CLIENT_INFO
        info = json.loads(info_path.read_text(encoding="utf-8"))
        old = str(info["identity"])
        if message.device != old:
            logger.warning("a new name for %s, but this robot is %s: ignored", message.device, old)
            return False
        try:
            cert = x509.load_pem_x509_certificate(message.cert.encode())
            ca = x509.load_pem_x509_certificate((self.path / str(info["ca"])).read_bytes())
            cert.verify_directly_issued_by(ca)
            key = serialization.load_pem_private_key(
                (self.path / str(info["key"])).read_bytes(), None
            )
        except (ValueError, TypeError, OSError) as exc:
            logger.warning("a new name that does not check out: %s", exc)
            return False
        names = [n.value for n in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if cert.public_key() != key.public_key() or names != [message.name]:
            logger.warning(
                "a new certificate that is not this robot's, or not for %s", message.name
            )
            return False
        new = message.name
        write_atomic(self.path / f"{new}.crt", message.cert.encode())
        write_atomic(self.path / f"{new}.key", (self.path / str(info["key"])).read_bytes(), PRIVATE)
        info.update(identity=new, cert=f"{new}.crt", key=f"{new}.key")
        write_atomic(info_path, (json.dumps(info, indent=2) + "\n").encode())
        for stale in (f"{old}.crt", f"{old}.key"):
            (self.path / stale).unlink(missing_ok=True)
        logger.warning("this robot is now %s (was %s)", new, old)
        return True


def label_text(claim: Claim) -> str:
    """A label to print and stick on the robot while it waits to be claimed."""
    return (
        "RoboClass robot / 机器人\n"
        f"id: {claim.robot_id}\n"
        f"claim code / 认领码: {claim.code}\n"
        "Console: Room > New robots > type the code\n"
    )
