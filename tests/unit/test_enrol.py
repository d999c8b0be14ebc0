"""Enrolment's exchange (fleet/enrol/protocol.py) and the robot's credential folder, without a network."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from fleet.broker.config import (
    BrokerSettings,
    Credentials,
    Layout,
    acl_signature,
    enrol_device,
    load_settings,
    revoke_device,
    write_classroom,
)
from fleet.broker.pki import CertKey, certify, new_ca, sign_csr
from fleet.core.errors import BrokerError
from fleet.core.protocol import DropCounter, Reassign, Topics, decode, encode
from fleet.enrol.protocol import (
    BadMessage,
    ConsoleExchange,
    Grant,
    RobotExchange,
    WrongCode,
    _hash,
    _Keys,
    code_digits,
    new_claim_code,
    new_robot_id,
)
from fleet.enrol.robot import (
    CONSOLE_KEY_FILE,
    ENROL_PORT,
    MAX_FAILURES,
    CredentialFolder,
    _Indicator,
    code_pattern,
)

ROBOT = "rc-7f3a9c"
CODE = "4821-0937"


def csr_for(key: ec.EllipticCurvePrivateKey) -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ROBOT)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def grant_for(csr_pem: bytes, name: str = "robot-07") -> Grant:
    ca = new_ca("test CA")
    cert = sign_csr(ca, x509.load_pem_x509_csr(csr_pem), name)
    return Grant(
        identity=name,
        site="school",
        room="lab-2",
        hosts=["hub.local"],
        port=8883,
        cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
        ca=ca.cert_pem().decode(),
        console_key="ab" * 32,
    )


@pytest.fixture
def csr() -> bytes:
    return csr_for(ec.generate_private_key(ec.SECP256R1()))


def test_the_right_code_delivers_the_grant_and_both_ends_know(csr: bytes) -> None:
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange("4821 0937", robot_id=ROBOT)  # spaces and dashes do not matter
    assert console.check(robot.start(console.start_message())) == csr
    grant = grant_for(csr)
    got, ack = robot.finish(console.seal(grant))
    assert got == grant
    console.check_ack(ack)


def test_a_console_without_the_code_learns_nothing_it_can_use(csr: bytes) -> None:
    """A student's laptop posing as the console: the robot's proof does not check out."""
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    student = ConsoleExchange("4821-0938", robot_id=ROBOT)
    with pytest.raises(WrongCode):
        student.check(robot.start(student.start_message()))


def test_a_robot_without_the_code_gets_no_certificate(csr: bytes) -> None:
    """A student's laptop posing as the robot the teacher picked: the console refuses to sign."""
    fake = RobotExchange("1111-2222", robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange(CODE, robot_id=ROBOT)
    with pytest.raises(WrongCode):
        console.check(fake.start(console.start_message()))
    with pytest.raises(BadMessage):
        console.seal(grant_for(csr))  # nothing to seal with


def _forge(
    attacker: ConsoleExchange, reply: dict[str, Any], grant: Grant, csr: bytes
) -> dict[str, Any]:
    """What a console that ignores the robot's proof would send: sealed with its own key."""
    b = base64.b64decode(reply["pake"])
    shared = attacker._spake.finish(b)
    keys = _Keys.derive(shared, bytes.fromhex(attacker.session), ROBOT, attacker._a, b)
    nonce = secrets.token_bytes(12)
    plain = json.dumps(grant.model_dump()).encode()
    box = AESGCM(keys.grant).encrypt(nonce, plain, keys.transcript + _hash(csr))
    return {
        "v": 1,
        "session": attacker.session,
        "nonce": base64.b64encode(nonce).decode(),
        "box": base64.b64encode(box).decode(),
    }


def test_a_forged_grant_is_refused(csr: bytes) -> None:
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    attacker = ConsoleExchange("0000-0000", robot_id=ROBOT)
    reply = robot.start(attacker.start_message())
    with pytest.raises(WrongCode):
        robot.finish(_forge(attacker, reply, grant_for(csr), csr))


def test_a_replayed_grant_is_refused(csr: bytes) -> None:
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange(CODE, robot_id=ROBOT)
    console.check(robot.start(console.start_message()))
    sealed = console.seal(grant_for(csr))
    robot.finish(sealed)
    with pytest.raises(BadMessage):
        robot.finish(sealed)  # the same exchange: a grant is taken once
    # a new exchange (what the robot runs for the next start): the old grant does not open
    again = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    start = console.start_message()
    again.start(start)  # even the console's own first message, replayed
    with pytest.raises(WrongCode):
        again.finish(sealed)


def test_a_changed_request_or_grant_is_refused(csr: bytes) -> None:
    other = csr_for(ec.generate_private_key(ec.SECP256R1()))
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange(CODE, robot_id=ROBOT)
    reply = robot.start(console.start_message())
    with pytest.raises(WrongCode):  # someone in between swaps the request for their own key
        console.check({**reply, "csr": other.decode()})

    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange(CODE, robot_id=ROBOT)
    console.check(robot.start(console.start_message()))
    sealed = console.seal(grant_for(csr))
    box = bytearray(base64.b64decode(sealed["box"]))
    box[10] ^= 1
    with pytest.raises(WrongCode):
        robot.finish({**sealed, "box": base64.b64encode(bytes(box)).decode()})


def test_a_code_for_another_robot_does_not_work(csr: bytes) -> None:
    """The exchange names the robot: its code typed into another robot's row fails."""
    robot = RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr)
    console = ConsoleExchange(CODE, robot_id="rc-000000")
    with pytest.raises(BadMessage):
        console.check(robot.start(console.start_message()))


@pytest.mark.parametrize(
    "message",
    [
        None,
        {},
        {"v": 2, "session": "0" * 32, "pake": ""},
        {"v": 1, "session": "xyz", "pake": "AAAA"},
        {"v": 1, "session": "0" * 32, "pake": "not base64!"},
        {"v": 1, "session": "0" * 32, "pake": base64.b64encode(b"\x41" * 33).decode()},
    ],
)
def test_malformed_first_messages_are_bad_messages(csr: bytes, message: Any) -> None:
    with pytest.raises(BadMessage):
        RobotExchange(CODE, robot_id=ROBOT, csr_pem=csr).start(message)


def test_claim_codes() -> None:
    codes = {new_claim_code() for _ in range(50)}
    assert all(len(c) == 9 and c[4] == "-" and code_digits(c).isdigit() for c in codes)
    assert len(codes) > 45
    assert code_digits(" 4821 - 0937 ") == "48210937"
    for bad in ("4821-093", "4821-093x", "４８２１０９３７"):
        with pytest.raises(BadMessage):
            code_digits(bad)
    assert new_robot_id().startswith("rc-")


def test_code_pattern_flashes_each_digit() -> None:
    steps = code_pattern("3102-0000", unit_s=1.0)
    assert steps[0] == (True, 8.0)  # "here it comes"
    flashes = [s for s in steps[1:] if s[0]]
    # 3 short, 1 short, one long for 0, 2 short, then four long
    assert [d for _, d in flashes] == [1.0] * 3 + [1.0] + [4.0] + [1.0] * 2 + [4.0] * 4
    assert steps[-1] == (False, 10.0)  # a long pause before it repeats
    assert (False, 6.0) in steps  # the dash


# -- the robot's folder --------------------------------------------------------


def test_credential_folder_keeps_its_key_and_code_until_claimed(tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path / "creds")
    claim = folder.claim()
    key = folder.key()
    again = CredentialFolder(tmp_path / "creds")  # after a reboot
    assert again.claim() == claim
    assert again.key().private_numbers() == key.private_numbers()
    assert (tmp_path / "creds").stat().st_mode & 0o777 == 0o700
    for name in ("pending.key", "claim.json", "claim-label.txt"):
        assert (tmp_path / "creds" / name).stat().st_mode & 0o777 == 0o600
    assert claim.code in folder.label_file.read_text()
    assert not folder.configured


def test_a_new_code_after_too_many_wrong_tries(tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path)
    first = folder.claim()
    for _ in range(MAX_FAILURES - 1):
        folder.count_failure()
    assert folder.claim().code == first.code
    assert folder.claim().failures == MAX_FAILURES - 1
    replaced = folder.count_failure()
    assert replaced.robot_id == first.robot_id
    assert replaced.failures == 0
    assert folder.claim().code == replaced.code  # (1 in 10^8 that it is the same by chance)


def test_install_writes_a_folder_the_agent_loads(tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path)
    grant = grant_for(folder.csr(folder.claim().robot_id))
    folder.install(grant)
    assert folder.configured
    creds = Credentials.load(tmp_path)
    assert (creds.identity, creds.room, creds.hosts) == ("robot-07", "lab-2", ("hub.local",))
    assert (tmp_path / CONSOLE_KEY_FILE).read_text().strip() == "ab" * 32
    assert (tmp_path / "robot-07.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broker.json",
        "ca.crt",
        "console.pub",
        "robot-07.crt",
        "robot-07.key",
    ]
    creds.tls_context()  # the certificate and the key belong together


def test_install_refuses_a_certificate_for_another_key(tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path)
    other = grant_for(csr_for(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(BadMessage, match="not for this robot's key"):
        folder.install(other)
    mine = grant_for(folder.csr("x"))
    with pytest.raises(BadMessage, match="not from its CA"):
        folder.install(mine.model_copy(update={"ca": new_ca("another").cert_pem().decode()}))
    assert not folder.configured


def test_sign_csr_takes_only_a_proven_p256_key() -> None:
    ca = new_ca("test CA")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(rsa_key, hashes.SHA256())
    )
    with pytest.raises(ValueError, match="P-256"):
        sign_csr(ca, request, "robot-07")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sign_csr(ca, x509.load_pem_x509_csr(csr_for(key)), "robot-07")
    assert cert.subject.rfc4514_string() == "CN=robot-07"  # the console names it
    assert cert.public_key() == key.public_key()


def test_enrol_device_keeps_only_the_certificate_and_revoke_works(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(), tmp_path / "b")
    before = acl_signature(layout)
    key = ec.generate_private_key(ec.SECP256R1())
    settings, cert, ca_pem = enrol_device(
        layout.root, "robot-07", x509.load_pem_x509_csr(csr_for(key))
    )
    assert settings.devices == ("robot-07",)
    assert ca_pem == layout.ca_cert.read_bytes()
    assert "user robot-07\n" in layout.acl.read_text()
    assert sorted(p.name for p in layout.device_dir("robot-07").iterdir()) == ["robot-07.crt"]
    assert acl_signature(layout) != before
    with pytest.raises(BrokerError, match="already a robot named"):
        enrol_device(layout.root, "robot-07", x509.load_pem_x509_csr(csr_for(key)))
    with pytest.raises(BrokerError, match="must match"):
        enrol_device(layout.root, "robot/8", x509.load_pem_x509_csr(csr_for(key)))
    revoke_device(layout.root, "robot-07")
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert load_settings(layout.root)[0].devices == ()
    assert isinstance(Layout(layout.root).reloaded, Path)


def test_the_agent_command_loads_enrolment_only_when_unclaimed() -> None:
    """`roboclass agent` with credentials starts without SPAKE2, zeroconf or x509."""
    code = (
        "import sys, fleet.agent.cli as a, fleet.enrol.robot as r\n"
        "assert (a.ENROL_PORT, a.CONSOLE_KEY_FILE) == (r.ENROL_PORT, r.CONSOLE_KEY_FILE)\n"
        "del sys.modules['fleet.enrol.robot']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    probe = (
        "import sys, fleet.agent.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('spake2', 'zeroconf')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    assert ENROL_PORT == 8764


def _claimed(tmp_path: Path) -> tuple[CredentialFolder, CertKey, ec.EllipticCurvePublicKey]:
    """A robot folder claimed as robot-07, with the CA that signed it."""
    folder = CredentialFolder(tmp_path)
    ca = new_ca("test CA")
    csr = x509.load_pem_x509_csr(folder.csr(folder.claim().robot_id))
    cert = sign_csr(ca, csr, "robot-07")
    folder.install(
        grant_for(folder.csr("x")).model_copy(
            update={
                "cert": cert.public_bytes(serialization.Encoding.PEM).decode(),
                "ca": ca.cert_pem().decode(),
            }
        )
    )
    public = csr.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return folder, ca, public


def _reassign(cert: x509.Certificate, name: str = "robot-08", device: str = "robot-07") -> Reassign:
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Reassign(device=device, name=name, cert=pem, ts=0.0, expires=1e12)


def test_a_new_name_is_taken_only_from_our_ca_for_our_key(tmp_path: Path) -> None:
    folder, ca, public = _claimed(tmp_path)
    key_before = (tmp_path / "robot-07.key").read_bytes()
    other_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    refused = [
        _reassign(certify(new_ca("another CA"), "robot-08", public)),  # not our CA
        _reassign(certify(ca, "robot-08", other_key)),  # not our key
        _reassign(certify(ca, "robot-09", public)),  # names another name
        _reassign(certify(ca, "robot-08", public), device="robot-01"),  # for another robot
    ]
    for message in refused:
        assert folder.reassign(message) is False
    assert Credentials.load(tmp_path).identity == "robot-07"
    assert folder.reassign(_reassign(certify(ca, "robot-08", public))) is True
    creds = Credentials.load(tmp_path)
    assert creds.identity == "robot-08"
    assert creds.key.read_bytes() == key_before  # the same key, never sent anywhere
    assert creds.key.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "robot-07.crt").exists() and not (tmp_path / "robot-07.key").exists()
    creds.tls_context()


def test_leaving_the_room_forgets_it_and_the_old_name_still_works(tmp_path: Path) -> None:
    folder, _ca, _public = _claimed(tmp_path / "a")
    assert folder.leave_room() is True
    assert not folder.configured and list(folder.path.iterdir()) == []
    assert folder.leave_room() is False  # nothing left to forget
    old, _ca, _public = _claimed(tmp_path / "b")
    with pytest.warns(DeprecationWarning, match="leave_room"):
        assert old.release() is True
    assert not old.configured


def test_reassign_has_its_own_topic() -> None:
    topics = Topics("school", "room1")
    assert topics.reassign("robot-07") == "roboclass/v1/school/room1/dev/robot-07/down/reassign"
    message = _reassign(
        certify(new_ca("x"), "robot-08", ec.generate_private_key(ec.SECP256R1()).public_key())
    )
    decoded = decode(
        topics, topics.reassign("robot-07"), encode(message), DropCounter(), device="robot-07"
    )
    assert decoded is not None and decoded[1] == message
    assert f"{topics.dev('robot-07')}/down/#" in topics.device_subscriptions("robot-07")


def test_the_code_blinks_and_beeps_on_a_kit_that_has_them() -> None:
    from hardware import Robot  # noqa: PLC0415

    with Robot(kit="sim", backend="sim", realtime=False) as robot:
        led, buzzer = robot.parts["led"], robot.parts["buzzer"]
        indicator = _Indicator(robot, "1000-0000")
        try:
            deadline = time.monotonic() + 10
            while led.value != 1.0 and time.monotonic() < deadline:  # type: ignore[attr-defined]
                time.sleep(0.01)
            assert led.value == 1.0  # type: ignore[attr-defined]
            assert buzzer.tone is not None  # type: ignore[attr-defined]
        finally:
            indicator.close()
        assert led.value == 0.0  # type: ignore[attr-defined]
        assert buzzer.tone is None  # type: ignore[attr-defined]
