"""The classroom broker's generated files: settings, certificates, ACL, mosquitto.conf, CLI."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import stat
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleet.broker.cli import broker, default_hosts
from fleet.broker.config import (
    BrokerSettings,
    Credentials,
    Layout,
    acl_text,
    add_device,
    broker_user,
    load_settings,
    mosquitto_conf,
    revoke_device,
    valid_host,
    write_classroom,
)
from fleet.broker.pki import CA_DAYS, LEAF_DAYS, issue, make_crl, new_ca
from fleet.core.errors import BrokerError
from fleet.core.protocol import MAX_JOB_PAYLOAD, valid_id
from fleet.core.signing import SigningKey, load_public_key, public_key_text

NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


# -- settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("site", "a/b", "site"),
        ("room", "room+1", "room"),
        ("devices", ("robot-01", "robot/02"), "device id"),
        ("devices", ("robot-01", "robot-01"), "twice"),
        ("devices", ("#",), "device id"),
        ("hosts", (), "at least one"),
        ("hosts", ("hub local",), "neither a host name"),
        ("hosts", ("-hub",), "neither a host name"),
        ("port", 0, "not a TCP port"),
        ("port", 70000, "not a TCP port"),
        ("bind", "hub.local", "not an IP address"),
        ("max_connections", 1, "at least 2"),
        ("max_packet_size", 1000, "job document"),
    ],
)
def test_settings_reject_what_mosquitto_or_the_topic_tree_cannot_take(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(BrokerError, match=message):
        BrokerSettings(**{field: value})  # type: ignore[arg-type]


def test_settings_round_trip_and_reject_unknown_fields() -> None:
    settings = BrokerSettings(
        room="lab-2", hosts=("hub.local", "192.168.1.10", "fe80::1"), devices=("r1", "r2")
    )
    assert BrokerSettings.from_dict(json.loads(json.dumps(settings.as_dict()))) == settings
    with pytest.raises(BrokerError, match=r"unknown broker setting.*colour"):
        BrokerSettings.from_dict({**settings.as_dict(), "colour": "red"})


def test_the_consoles_identity_can_never_be_a_device_id() -> None:
    identity = BrokerSettings(site="s", room="r").console_identity
    assert identity == "console:s:r"
    assert not valid_id(identity)


def test_max_packet_size_holds_a_job_document() -> None:
    assert BrokerSettings().max_packet_size > MAX_JOB_PAYLOAD


# -- certificates ----------------------------------------------------------------


def test_ca_may_sign_leaves_but_no_other_ca() -> None:
    ca = new_ca("RoboClass CA s/r", now=NOW)
    constraints = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert (constraints.value.ca, constraints.value.path_length) == (True, 0)
    usage = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert ca.cert.not_valid_before_utc == NOW - dt.timedelta(days=1)
    assert ca.cert.not_valid_after_utc == NOW + dt.timedelta(days=CA_DAYS)


def test_broker_certificate_names_every_host_and_is_for_servers_only() -> None:
    ca = new_ca("ca", now=NOW)
    server = issue(ca, "hub.local", server_names=("hub.local", "192.168.1.10", "::1"), now=NOW)
    server.cert.verify_directly_issued_by(ca.cert)
    san = server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["hub.local"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("192.168.1.10"),
        ipaddress.ip_address("::1"),
    ]
    eku = server.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not server.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_client_certificate_carries_the_device_id_and_is_for_clients_only() -> None:
    ca = new_ca("ca", now=NOW)
    client = issue(ca, "robot-07", now=NOW)
    client.cert.verify_directly_issued_by(ca.cert)
    assert cn(client.cert) == "robot-07"
    eku = client.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        client.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert client.cert.not_valid_after_utc == NOW + dt.timedelta(days=LEAF_DAYS)


def test_a_leaf_never_outlives_its_ca() -> None:
    ca = new_ca("ca", now=NOW)
    late = issue(ca, "robot-07", now=NOW + dt.timedelta(days=CA_DAYS - 10))
    assert late.cert.not_valid_after_utc == ca.cert.not_valid_after_utc


def test_crl_lists_the_revoked_serials_and_lives_as_long_as_the_ca() -> None:
    ca = new_ca("ca", now=NOW)
    crl = x509.load_pem_x509_crl(make_crl(ca, [7, 3, 7], now=NOW))
    assert crl.is_signature_valid(ca.key.public_key())
    assert sorted(r.serial_number for r in crl) == [3, 7]
    assert crl.next_update_utc == ca.cert.not_valid_after_utc
    assert list(x509.load_pem_x509_crl(make_crl(ca, [], now=NOW))) == []


# -- the text Mosquitto reads --------------------------------------------------------


def test_acl_grants_devices_their_own_topics_and_the_console_the_room() -> None:
    settings = BrokerSettings(devices=("robot-01", "robot-02"))
    rules = [line for line in acl_text(settings).splitlines() if line and line[0] != "#"]
    base = "roboclass/v1/school/room1"
    assert rules == [
        "user console:school:room1",
        f"topic readwrite {base}/#",
        "user robot-01",
        f"topic write {base}/dev/robot-01/up/#",
        f"topic read {base}/dev/robot-01/down/#",
        f"topic read {base}/estop",
        f"topic read {base}/console/state",
        "user robot-02",
        f"topic write {base}/dev/robot-02/up/#",
        f"topic read {base}/dev/robot-02/down/#",
        f"topic read {base}/estop",
        f"topic read {base}/console/state",
    ]
    assert "pattern" not in acl_text(settings)  # nobody unlisted gets anything


def test_add_and_revoke_rewrite_the_acl(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path)
    add_device(tmp_path, "robot-02")
    assert "user robot-02\n" in layout.acl.read_text()
    revoke_device(tmp_path, "robot-01")
    assert layout.acl.read_text() == acl_text(BrokerSettings(devices=("robot-02",)))


def test_mosquitto_conf_has_one_tls_listener_and_no_anonymous_access(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    conf = mosquitto_conf(BrokerSettings(port=8884, max_connections=80), layout, "teacher")
    lines = [line for line in conf.splitlines() if line and line[0] != "#"]
    for wanted in (
        "user teacher",
        "allow_anonymous false",
        "check_retain_source true",
        f"max_packet_size {MAX_JOB_PAYLOAD + 4096}",
        "max_connections 80",
        "persistence true",
        f"persistence_location {tmp_path}/data/",
        f"acl_file {tmp_path}/acl",
        f"cafile {tmp_path}/ca.crt",
        f"certfile {tmp_path}/broker.crt",
        f"keyfile {tmp_path}/broker.key",
        f"crlfile {tmp_path}/crl.pem",
        "require_certificate true",
        "use_identity_as_username true",
        "use_username_as_clientid true",
    ):
        assert wanted in lines
    assert [line for line in lines if line.startswith("listener")] == ["listener 8884"]
    assert "password_file" not in conf
    bound = mosquitto_conf(BrokerSettings(bind="192.168.1.10"), layout, "teacher")
    assert "\nlistener 8883 192.168.1.10\n" in bound


@pytest.mark.parametrize("root", [Path("relative/dir"), Path("/srv/my broker"), Path("/srv/a#b")])
def test_mosquitto_conf_refuses_paths_it_cannot_read(root: Path) -> None:
    with pytest.raises(BrokerError):
        mosquitto_conf(BrokerSettings(), Layout(root), "teacher")


def test_the_broker_unit_has_one_shape(tmp_path: Path) -> None:
    """`broker up --unit` points at `service install broker`, the one place the unit is made."""
    write_classroom(BrokerSettings(), tmp_path)
    result = CliRunner().invoke(broker, ["up", "--config", str(tmp_path), "--unit"])
    assert result.exit_code == 2
    assert f"roboclass service install broker --config {tmp_path}" in result.output


# -- writing a classroom -------------------------------------------------------------


def test_write_classroom_keeps_keys_private(tmp_path: Path) -> None:
    settings = BrokerSettings(devices=("robot-01", "robot-02"))
    layout = write_classroom(settings, tmp_path / "b")
    for key in (
        layout.ca_key,
        layout.broker_key,
        layout.console_key,
        layout.device_key("robot-01"),
        layout.device_key("robot-02"),
    ):
        assert mode(key) == 0o600, key
    for folder in (layout.console, layout.root / "devices", layout.device_dir("robot-01")):
        assert mode(folder) == 0o700, folder
    assert mode(layout.ca_cert) == 0o644
    # The broker's side holds no CA key: only the console's folder does.
    assert sorted(p.name for p in layout.root.glob("*.key")) == ["broker.key"]


def test_write_classroom_issues_the_right_names(tmp_path: Path) -> None:
    settings = BrokerSettings(room="lab", hosts=("hub.local", "10.0.0.5"), devices=("robot-01",))
    layout = write_classroom(settings, tmp_path / "b")
    ca = x509.load_pem_x509_certificate(layout.ca_cert.read_bytes())
    console = x509.load_pem_x509_certificate(layout.console_cert.read_bytes())
    device = x509.load_pem_x509_certificate(layout.device_cert("robot-01").read_bytes())
    server = x509.load_pem_x509_certificate(layout.broker_cert.read_bytes())
    for cert in (console, device, server):
        cert.verify_directly_issued_by(ca)
    assert cn(console) == "console:school:lab"
    assert cn(device) == "robot-01"
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["hub.local"]
    folder = layout.device_dir("robot-01")
    assert (folder / "ca.crt").read_bytes() == layout.ca_cert.read_bytes()
    assert json.loads((folder / "broker.json").read_text()) == {
        "identity": "robot-01",
        "site": "school",
        "room": "lab",
        "hosts": ["hub.local", "10.0.0.5"],
        "port": 8883,
        "cert": "robot-01.crt",
        "key": "robot-01.key",
        "ca": "ca.crt",
    }
    robot = Credentials.load(folder)
    assert (robot.identity, robot.host, robot.port) == ("robot-01", "hub.local", 8883)
    assert (robot.cert, robot.key) == (
        layout.device_cert("robot-01"),
        layout.device_key("robot-01"),
    )
    console = Credentials.load(layout.console)
    assert (console.identity, console.room) == ("console:school:lab", "lab")
    assert (console.cert, console.key) == (layout.console_cert, layout.console_key)
    assert console.ca.read_bytes() == layout.ca_cert.read_bytes()
    assert load_settings(layout.root) == (settings, layout)


def test_write_classroom_never_replaces_a_ca(tmp_path: Path) -> None:
    write_classroom(BrokerSettings(), tmp_path)
    before = (tmp_path / "console" / "ca.key").read_bytes()
    with pytest.raises(BrokerError, match="already holds a classroom broker"):
        write_classroom(BrokerSettings(), tmp_path)
    assert (tmp_path / "console" / "ca.key").read_bytes() == before


def test_every_robot_folder_holds_the_consoles_public_key(tmp_path: Path) -> None:
    """A robot started with only its folder knows whose jobs to run (`agent --broker-folder`)."""
    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path / "b")
    assert mode(layout.signing_key) == 0o600
    public = public_key_text(SigningKey.load_or_create(layout.signing_key).public_key)
    assert layout.console_pub("robot-01").read_text() == public + "\n"
    add_device(layout.root, "robot-02")
    assert layout.console_pub("robot-02").read_text() == public + "\n"
    key = load_public_key(str(layout.console_pub("robot-02")))
    assert public_key_text(key) == public
    # The key never leaves the console's folder.
    assert sorted(p.name for p in layout.root.rglob("signing-key.pem")) == ["signing-key.pem"]
    assert layout.signing_key.parent == layout.console


def test_mosquitto_never_runs_as_root(tmp_path: Path) -> None:
    assert broker_user(0, has_user=lambda name: name == "mosquitto") == "mosquitto"
    with pytest.raises(BrokerError, match="must not run as root") as refused:
        broker_user(0, has_user=lambda name: False)
    assert "不能以 root 运行" in str(refused.value)
    assert "apt install mosquitto" in str(refused.value)
    with pytest.raises(BrokerError, match="must not run as root"):
        mosquitto_conf(BrokerSettings(), Layout(tmp_path), "root")
    conf = write_classroom(BrokerSettings(), tmp_path / "b").conf.read_text()
    assert "user root" not in conf.splitlines()


def test_add_device_then_revoke_it(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path)
    folder = add_device(tmp_path, "robot-02")
    assert folder == layout.device_dir("robot-02")
    assert mode(layout.device_key("robot-02")) == 0o600
    serial = x509.load_pem_x509_certificate(
        layout.device_cert("robot-02").read_bytes()
    ).serial_number
    with pytest.raises(BrokerError, match="already has credentials"):
        add_device(tmp_path, "robot-02")

    revoke_device(tmp_path, "robot-02")
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    assert [r.serial_number for r in crl] == [serial]
    assert not folder.exists()
    settings, _ = load_settings(tmp_path)
    assert (settings.devices, settings.revoked) == (("robot-01",), ("robot-02",))
    with pytest.raises(BrokerError, match="no credentials"):
        revoke_device(tmp_path, "robot-02")

    # A second revocation keeps the first on the list.
    first = x509.load_pem_x509_certificate(layout.device_cert("robot-01").read_bytes())
    revoke_device(tmp_path, "robot-01")
    crl = x509.load_pem_x509_crl(layout.crl.read_bytes())
    assert sorted(r.serial_number for r in crl) == sorted([serial, first.serial_number])


def test_only_the_consoles_copy_can_issue(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(), tmp_path)
    layout.ca_key.unlink()
    with pytest.raises(BrokerError, match="only the console's copy"):
        add_device(tmp_path, "robot-09")


def test_load_settings_explains_a_missing_or_broken_folder(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="roboclass broker config --out"):
        load_settings(tmp_path)
    (tmp_path / "roboclass-broker.json").write_text("{")
    with pytest.raises(BrokerError, match="not valid JSON"):
        load_settings(tmp_path)


def test_credentials_explain_a_missing_or_wrong_folder(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path / "b")
    with pytest.raises(BrokerError, match="copy the robot's folder"):
        Credentials.load(tmp_path)
    folder = layout.device_dir("robot-01")
    info = json.loads((folder / "broker.json").read_text())
    (folder / "broker.json").write_text(json.dumps({**info, "password": "x"}))
    with pytest.raises(BrokerError, match="must hold exactly"):
        Credentials.load(folder)
    (folder / "broker.json").write_text(json.dumps(info))
    layout.device_key("robot-01").unlink()
    with pytest.raises(BrokerError, match=r"robot-01\.key is missing"):
        Credentials.load(folder)


def test_credentials_tls_context_trusts_only_the_room_and_checks_names(tmp_path: Path) -> None:
    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path)
    context = Credentials.load(layout.device_dir("robot-01")).tls_context()
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("organizationName", "RoboClass"),), (("commonName", "RoboClass CA school/room1"),))
    ]


# -- the commands ----------------------------------------------------------------------


def test_broker_config_command(tmp_path: Path) -> None:
    out = tmp_path / "room"
    result = CliRunner().invoke(
        broker,
        [
            "config",
            "--out",
            str(out),
            "--room",
            "lab-3",
            "--host",
            "hub.local",
            "--host",
            "192.168.1.10",
            "--devices",
            "robot-01, robot-02",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hosts"] == ["hub.local", "192.168.1.10"]
    assert report["console_identity"] == "console:school:lab-3"
    assert sorted(report["devices"]) == ["robot-01", "robot-02"]
    assert Path(report["config"]).read_text().startswith("# RoboClass classroom broker")

    again = CliRunner().invoke(broker, ["config", "--out", str(out)])
    assert again.exit_code == 1
    assert "already holds a classroom broker" in again.output


def test_broker_config_command_rejects_a_bad_device(tmp_path: Path) -> None:
    result = CliRunner().invoke(broker, ["config", "--out", str(tmp_path), "--devices", "a+b"])
    assert result.exit_code == 1
    assert "device id 'a+b'" in result.output
    assert not (tmp_path / "mosquitto.conf").exists()


def test_broker_up_without_a_config(tmp_path: Path) -> None:
    missing = CliRunner().invoke(broker, ["up", "--config", str(tmp_path)])
    assert missing.exit_code == 1
    assert "roboclass broker config --out" in missing.output


def test_add_device_and_revoke_commands(tmp_path: Path) -> None:
    write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path)
    added = CliRunner().invoke(broker, ["add-device", "--config", str(tmp_path), "robot-02"])
    assert added.exit_code == 0, added.output
    assert f"copy {tmp_path.resolve()}/devices/robot-02/ to the robot" in added.output
    bad = CliRunner().invoke(broker, ["add-device", "--config", str(tmp_path), "robot/3"])
    assert bad.exit_code == 1
    assert "device id 'robot/3'" in bad.output
    revoked = CliRunner().invoke(broker, ["revoke", "--config", str(tmp_path), "robot-01"])
    assert revoked.exit_code == 0, revoked.output
    assert "reload the broker" in revoked.output
    assert load_settings(tmp_path)[0].devices == ("robot-02",)
    again = CliRunner().invoke(broker, ["revoke", "--config", str(tmp_path), "robot-01"])
    assert again.exit_code == 1
    assert "no credentials" in again.output


def test_default_hosts_include_loopback_and_are_valid() -> None:
    hosts = default_hosts()
    assert hosts[-2:] == ["localhost", "127.0.0.1"]
    assert len(set(hosts)) == len(hosts)
    assert all(valid_host(h) for h in hosts)


def test_console_serve_on_a_classroom_listens_on_the_lan_and_signs_with_its_key(
    tmp_path: Path,
) -> None:
    """Robots fetch bundles from the advertised URL: the hub's name, never loopback."""
    from fleet.console.cli import advertised_url, console  # noqa: PLC0415

    assert advertised_url("http://0.0.0.0:8080", ("hub.local", "10.0.0.2")) == (
        "http://hub.local:8080"
    )
    assert advertised_url("https://[::]:443", ("fd00::1",)) == "https://[fd00::1]:443"
    assert advertised_url("http://127.0.0.1:8080", ("hub.local",)) == "http://127.0.0.1:8080"

    layout = write_classroom(
        BrokerSettings(hosts=("hub.local", "192.168.1.10"), devices=("robot-01",)),
        tmp_path / "b",
    )
    data = tmp_path / "console-data"
    args = ["serve", "--broker-folder", str(layout.console), "--data-dir", str(data)]
    args += ["--port", "0", "--no-mdns", "--duration", "0.2", "--json"]
    served = CliRunner().invoke(console, args)
    assert served.exit_code == 0, served.output
    facts = json.loads(served.output.splitlines()[-1])
    url = urllib.parse.urlsplit(facts["api"])
    assert url.hostname == "hub.local"
    assert facts["listen"].startswith("0.0.0.0:")
    # it signs with the key whose public half the robot's folder holds
    assert layout.console_pub("robot-01").read_text().strip() == facts["public_key"]
    assert (data / "signing-key.pem").read_bytes() == layout.signing_key.read_bytes()
    assert mode(data / "signing-key.pem") == 0o600

    # a data folder that signs with another key is refused, and says what to do
    other = tmp_path / "other"
    SigningKey.load_or_create(other / "signing-key.pem")
    args[args.index(str(data))] = str(other)
    refused = CliRunner().invoke(console, args)
    assert refused.exit_code != 0
    assert "--data-dir" in refused.output and "签名密钥" in refused.output


def test_an_agent_without_the_consoles_key_says_where_it_comes_from(tmp_path: Path) -> None:
    from fleet.agent.cli import agent  # noqa: PLC0415

    layout = write_classroom(BrokerSettings(devices=("robot-01",)), tmp_path / "b")
    layout.console_pub("robot-01").unlink()  # a folder copied from before `broker config` made it
    args = ["--broker-folder", str(layout.device_dir("robot-01")), "--no-robot"]
    refused = CliRunner().invoke(agent, [*args, "--duration", "0"])
    assert refused.exit_code == 2
    assert "console.pub is missing" in refused.output
    assert "--console-key" in refused.output and "控制台" in refused.output


def test_broker_config_and_enrolment_name_the_consoles_key_alike() -> None:
    from fleet.broker.conf import CONSOLE_KEY_FILE as BROKER_NAME  # noqa: PLC0415
    from fleet.enrol import CONSOLE_KEY_FILE  # noqa: PLC0415

    assert BROKER_NAME == CONSOLE_KEY_FILE
