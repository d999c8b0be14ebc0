"""onnxruntime sessions set up for a small robot computer.

- intra-op threads: configurable; by default every core but one, so the camera
  and the control loop keep a core (1 on a 1- or 2-core board);
- inter-op threads 1 and sequential execution (one small graph at a time);
- thread spinning off: idle inference threads sleep instead of burning the
  core the camera thread needs;
- full graph optimisation.
"""

from __future__ import annotations

import logging
import os

import onnxruntime as ort

__all__ = ["default_threads", "make_session"]

logger = logging.getLogger(__name__)


def default_threads(cpus: int | None = None) -> int:
    """Inference threads that leave one core free: ``max(1, cores - 1)``."""
    n = cpus if cpus is not None else (len(os.sched_getaffinity(0)) or 1)
    return max(1, n - 1)


def make_session(model: bytes, threads: int | None = None) -> ort.InferenceSession:
    """An onnxruntime CPU session for the (already verified) model bytes."""
    n = threads if threads is not None else default_threads()
    if n < 1:
        raise ValueError(f"threads must be >= 1, not {n}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = n
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    logger.debug("onnxruntime session: %d intra-op thread(s), spinning off", n)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
