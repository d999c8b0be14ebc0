"""``roboclass district broker-config`` / ``school-cert`` and ``broker config --district-folder``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509

from district.cli import district
from fleet.broker.cli import broker
from fleet.core.credentials import Credentials


def test_a_school_gets_a_certificate_and_its_broker_a_bridge(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(district, ["broker-config", "--out", str(tmp_path / "d"),
                                    "--host", "district.example", "--port", "8884"])  # fmt: skip
    assert made.exit_code == 0, made.output
    cert = runner.invoke(district, ["school-cert", "binhai-01", "--config", str(tmp_path / "d"),
                                    "--out", str(tmp_path / "cert")])  # fmt: skip
    assert cert.exit_code == 0, cert.output
    assert json.loads((tmp_path / "cert" / "district.json").read_text()) == {
        "school": "binhai-01", "host": "district.example", "port": 8884,
    }  # fmt: skip
    assert (tmp_path / "cert" / "school.key").stat().st_mode & 0o777 == 0o600
    assert "user school:binhai-01\n" in (tmp_path / "d" / "acl").read_text()
    assert Credentials.load(tmp_path / "d" / "service").identity == "district:service"

    school = runner.invoke(broker, ["config", "--out", str(tmp_path / "s"), "--host", "hub.local",
                                    "--devices", "robot-01",
                                    "--district-folder", str(tmp_path / "cert")])  # fmt: skip
    assert school.exit_code == 0, school.output
    assert "bridged to the district district.example:8884 as school binhai-01" in school.output
    conf = (tmp_path / "s" / "mosquitto.conf").read_text()
    assert "\naddress district.example:8884\n" in conf
    assert "\ntopic district/v1/binhai-01/up/# out 1\n" in conf
    assert "\nmax_queued_messages 100000\n" in conf
    link = Credentials.load(tmp_path / "s" / "console" / "district-link")
    assert link.identity == "district-link:school:room1"
    acl = (tmp_path / "s" / "acl").read_text()
    assert "user district-link:school:room1\ntopic write district/v1/binhai-01/up/#\n" in acl

    revoked = runner.invoke(district, ["revoke-school", "binhai-01", "--config",
                                       str(tmp_path / "d")])  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert "school:binhai-01" not in (tmp_path / "d" / "acl").read_text()
    crl = x509.load_pem_x509_crl((tmp_path / "d" / "crl.pem").read_bytes())
    serial = x509.load_pem_x509_certificate((tmp_path / "cert" / "school.crt").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial.serial_number) is not None

    bad = runner.invoke(district, ["school-cert", "all", "--config", str(tmp_path / "d"),
                                   "--out", str(tmp_path / "x")])  # fmt: skip
    assert bad.exit_code != 0 and "all" in bad.output
    missing = runner.invoke(broker, ["config", "--out", str(tmp_path / "s2"), "--host", "hub.local",
                                     "--district-host", "district.example", "--school", "b"])  # fmt: skip
    assert missing.exit_code != 0 and "--district-folder" in missing.output
