"""The classroom's certificates: a local CA, server and client certificates, a revocation list.

All keys are ECDSA P-256 (fast on a Pi, understood by every TLS stack)::

    from fleet.broker.pki import issue, new_ca

    ca = new_ca("RoboClass CA school/room1")
    broker = issue(ca, "hub.local", server_names=["hub.local", "192.168.1.10"])
    robot = issue(ca, "robot-07")          # client certificate, CN = device id
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CA_DAYS", "LEAF_DAYS", "CertKey", "certify", "issue", "make_crl", "new_ca", "sign_csr"]

#: How long the room's CA is valid (days).
CA_DAYS = 3650
#: How long a broker, console or device certificate is valid (days).
LEAF_DAYS = 1825
#: Certificates start a day in the past, so a robot whose clock lags a little still connects.
_BACKDATE = dt.timedelta(days=1)


@dataclass(frozen=True)
class CertKey:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_ca(name: str, *, now: dt.datetime | None = None) -> CertKey:
    """A self-signed CA (ECDSA P-256) that may sign certificates but no other CA."""
    now = now or _now()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "RoboClass"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKey(cert, key)


def issue(
    ca: CertKey,
    common_name: str,
    *,
    server_names: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> CertKey:
    """A leaf certificate signed by ``ca``, with a new key.

    With ``server_names`` it is a server certificate (``serverAuth``) for those
    host names and IP addresses; without, a client certificate (``clientAuth``)
    whose common name is the client's identity.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    return CertKey(_leaf(ca, common_name, key.public_key(), server_names, now), key)


def sign_csr(
    ca: CertKey, csr: x509.CertificateSigningRequest, common_name: str
) -> x509.Certificate:
    """A client certificate named ``common_name`` for the key in ``csr`` (enrolment).

    Only the request's key is used, after its signature proves the sender
    holds it; its subject is ignored (the console names the robot). The key
    must be EC P-256, as every key of the room is.
    """
    if not csr.is_signature_valid:
        raise ValueError("the signing request's signature is not valid")
    return certify(ca, common_name, csr.public_key())


def certify(ca: CertKey, common_name: str, public: object) -> x509.Certificate:
    """A client certificate named ``common_name`` for a robot's own (EC P-256) key."""
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        raise ValueError("the signing request must hold an EC P-256 key")
    return _leaf(ca, common_name, public, (), None)


def _leaf(
    ca: CertKey,
    common_name: str,
    public: ec.EllipticCurvePublicKey,
    server_names: Sequence[str],
    now: dt.datetime | None,
) -> x509.Certificate:
    now = now or _now()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + dt.timedelta(days=LEAF_DAYS), ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if server_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in server_names]), critical=False
        )
    return builder.sign(ca.key, hashes.SHA256())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_crl(ca: CertKey, serials: Iterable[int], *, now: dt.datetime | None = None) -> bytes:
    """The CA's certificate revocation list (PEM) naming ``serials``.

    It stays valid as long as the CA: an expired list would lock every robot out.
    """
    now = now or _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - _BACKDATE)
        .next_update(ca.cert.not_valid_after_utc)
    )
    for serial in sorted(set(serials)):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(minutes=1))
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
