"""The log forwarder on its own: batches, throttling, and what it says about held-back lines."""

from __future__ import annotations

from fleet.agent.logs import BATCH_LINES, LOG_CHARS_BURST, LogForwarder


class Batches:
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, list[tuple[str, str]]]] = []

    def __call__(self, job: str | None, lines: list) -> None:  # type: ignore[type-arg]
        self.sent.append((job, [(x.stream, x.line) for x in lines]))

    def lines(self) -> list[str]:
        return [line for _, batch in self.sent for _, line in batch]


def test_a_flood_of_output_is_rate_limited_and_said() -> None:
    batches = Batches()
    logs = LogForwarder(batches)
    line = "x" * 84  # 100 characters a line with the per-line cost
    for _ in range(5000):  # a `while True: print(...)` for a moment
        logs.line("j1", "stdout", line)
    logs.flush()
    sent = batches.lines()
    printed = [x for x in sent if x == line]
    assert LOG_CHARS_BURST // 100 - 5 <= len(printed) <= LOG_CHARS_BURST // 100 + 50
    notes = [x for x in sent if x.startswith("... ")]
    assert len(notes) == 1
    assert notes[0].startswith(f"... {5000 - len(printed)} lines not sent")
    assert {job for job, _ in batches.sent} == {"j1"}
    assert all(len(lines) <= 200 for _, lines in batches.sent)  # a LogBatch's limit


def test_lines_wait_for_a_flush_or_a_full_batch() -> None:
    batches = Batches()
    logs = LogForwarder(batches)
    logs.line("j1", "stdout", "hello")
    logs.line("j1", "stderr", "oops")
    logs.line("j1", "runner", "started")  # any other stream is the agent's
    assert batches.sent == []
    logs.flush()
    assert batches.sent == [("j1", [("stdout", "hello"), ("stderr", "oops"), ("agent", "started")])]
    logs.flush()  # nothing new: nothing sent
    assert len(batches.sent) == 1
    for n in range(BATCH_LINES):
        logs.line("j2", "stdout", str(n))
    assert len(batches.sent) == 2 and len(batches.sent[1][1]) == BATCH_LINES  # full: at once


def test_long_lines_are_cut_and_the_agent_speaks_unthrottled() -> None:
    batches = Batches()
    logs = LogForwarder(batches, chars_per_s=1, burst=10)
    logs.line("j1", "stdout", "y" * 5000)  # more than the burst: held back, and said
    logs.flush()
    assert batches.lines()[0].startswith("... 1 lines not sent (more than 1 characters a second)")
    logs.say(None, "preflight drive: ok", "z" * 3000)
    job, said = batches.sent[-1]
    assert job is None
    assert said[0] == ("agent", "preflight drive: ok")
    assert len(said[1][1]) == 2000
