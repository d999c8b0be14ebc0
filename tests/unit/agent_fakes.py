"""Fakes for the agent's parts: a link that records what it publishes, a robot that
records what it was told, job documents, and a gate for the job worker."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fleet.core.protocol import BundleRef, JobDocument, ModelRef

SHA = "ab" * 32


@dataclass
class Sent:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class FakeLink:
    """What :class:`fleet.agent.results.ResultSender` publishes with; records every message."""

    def __init__(self, connected: bool = True) -> None:
        self.up = connected
        self.sent: list[Sent] = []
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self.up

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        if not self.up:
            return False
        with self._lock:
            self.sent.append(Sent(topic, payload, qos, retain))
        return True

    def topics(self) -> list[str]:
        with self._lock:
            return [s.topic for s in self.sent]


class FakePart:
    def __init__(self, log: list[str], name: str) -> None:
        self._log, self._name = log, name

    def __getattr__(self, method: str) -> Any:
        return lambda *args: self._log.append(f"{self._name}.{method}")


@dataclass
class FakeKit:
    name: str = "fake-kit"
    parts: dict[str, Any] = field(default_factory=dict)


class FakeRobot:
    """Records stop / estop / clear / close; an LED and a buzzer if asked."""

    def __init__(self, *, parts: tuple[str, ...] = ()) -> None:
        self.calls: list[str] = []
        self.closed = False
        self.estopped = False
        self.kit = FakeKit()
        self.parts: dict[str, Any] = {name: FakePart(self.calls, name) for name in parts}

    def stop(self) -> None:
        self.calls.append("stop")

    def estop(self) -> None:
        self.estopped = True
        self.calls.append("estop")

    def clear_stop(self) -> None:
        self.estopped = False
        self.calls.append("clear_stop")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.calls.append("close")


class FakeGate:
    """An e-stop latch as the job worker sees it."""

    def __init__(self) -> None:
        self._clear = threading.Event()
        self._clear.set()

    @property
    def active(self) -> bool:
        return not self._clear.is_set()

    def stop(self) -> None:
        self._clear.clear()

    def clear(self) -> None:
        self._clear.set()

    def wait_clear(self, timeout: float | None = None) -> bool:
        return self._clear.wait(timeout)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lesson_job(job: str = "j1", device: str = "r1", **fields: Any) -> JobDocument:
    now = time.time()
    defaults: dict[str, Any] = {
        "lesson": BundleRef(id="lesson", sha256=SHA, size=1),
        "issued": now,
        "expires": now + 600,
        "kid": "0123456789abcdef",
    }
    return JobDocument(job=job, device=device, **(defaults | fields))


def model_job(job: str = "m1", device: str = "r1") -> JobDocument:
    now = time.time()
    return JobDocument(
        job=job,
        device=device,
        model=ModelRef(
            name="tiny", manifest="name: tiny", file=BundleRef(id="m", sha256=SHA, size=1)
        ),
        issued=now,
        expires=now + 600,
        kid="0123456789abcdef",
    )


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    """True once ``predicate()`` is; False after ``timeout`` (a test's wait, not library code)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
