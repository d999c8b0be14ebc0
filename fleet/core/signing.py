"""Ed25519 signatures on job documents.

The console holds one signing key, made on its first start and stored with
permissions 0600; devices get its public key at enrolment and accept only
jobs it signed::

    key = SigningKey.load_or_create(path)
    doc = key.sign(unsigned_doc)              # a JobDocument with kid and sig
    reason = verify_job(doc, {key.kid: key.public_key}, device="robot-07")
    assert reason is None
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fleet.core.errors import FleetError
from fleet.core.protocol import JobDocument

__all__ = ["SigningKey", "key_id", "load_public_key", "public_key_text", "verify_job"]

logger = logging.getLogger(__name__)

#: Clock difference between console and device that a job's ``issued`` may show.
CLOCK_SKEW_S = 300.0


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """16 hex digits naming a public key (the start of its sha256)."""
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The public key as 64 hex digits, for a device's settings."""
    return _raw(public).hex()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key from 64 hex digits, or from a file holding them."""
    value = text.strip()
    path = Path(value)
    if len(value) != 64 and path.is_file():
        value = path.read_text(encoding="utf-8").strip()
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
    except ValueError as exc:
        raise FleetError(
            f"not a console public key ({exc}): give the 64 hex digits that "
            "`roboclass console --show-key` prints"
        ) from exc


class SigningKey:
    """The console's Ed25519 key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = private.public_key()
        self.kid = key_id(self.public_key)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """Read the key at ``path``, or make one there (mode 0600) on first start."""
        if path.exists():
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                logger.warning("signing key %s had mode %o; setting 0600", path, mode)
                path.chmod(0o600)
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise FleetError(f"{path} is not an Ed25519 key; move it away and restart")
            return cls(loaded)
        path.parent.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        logger.info("made a new console signing key %s", path)
        return cls(private)

    def sign_bytes(self, data: bytes) -> str:
        """A base64 signature of ``data`` (the district link's envelopes: fleet.core.district)."""
        return base64.b64encode(self._private.sign(data)).decode()

    def sign(self, doc: JobDocument) -> JobDocument:
        """``doc`` with this key's id and a fresh signature."""
        unsigned = doc.model_copy(update={"kid": self.kid, "sig": ""})
        sig = self._private.sign(unsigned.signed_bytes())
        return unsigned.model_copy(update={"sig": base64.b64encode(sig).decode()})


def verify_job(  # noqa: PLR0911 - one return per reason to reject
    doc: JobDocument,
    trusted: dict[str, Ed25519PublicKey],
    *,
    device: str,
    now: float | None = None,
) -> str | None:
    """Why ``doc`` must be rejected, or ``None`` when it may run."""
    t = time.time() if now is None else now
    if doc.device != device:
        return f"job is for device {doc.device}, not {device}"
    if not doc.sig:
        return "job is not signed"
    public = trusted.get(doc.kid)
    if public is None:
        return f"job signed by unknown key {doc.kid}"
    try:
        public.verify(base64.b64decode(doc.sig, validate=True), doc.signed_bytes())
    except (InvalidSignature, ValueError):
        return (
            "bad signature (job altered or not from this console) / "
            "签名不对（任务被改动过，或不是这台控制台发出的）"
        )
    if doc.expires <= t:
        return "job expired"
    if doc.issued > t + CLOCK_SKEW_S:
        return "job issued in the future (check the device's clock)"
    return None
