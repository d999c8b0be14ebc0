"""Models: manifests, the registry, and the models shipped with RoboClass.

Every ``.onnx`` has a manifest (YAML) next to it that says what it is: task,
input, labels in English and Chinese, licence, how it was made and how well
it does. The registry finds models by name in the user's data folder, the
device cache and this package, and checks the file's sha256 before anything
loads it::

    from models import Registry
    entry = Registry().find("traffic-signs")
    entry.manifest.labels[0].zh     # '停车'
    data = entry.read_verified()    # bytes for onnxruntime

This package imports nothing of RoboClass but :mod:`rcbase`; running models
is :mod:`vision`'s job.
"""

from __future__ import annotations

from models.errors import ManifestError, ModelError, ModelFileError, ModelNotFoundError
from models.manifest import (
    Bilingual,
    InputSpec,
    Label,
    MadeBy,
    Manifest,
    Metric,
    Normalise,
    OutputSpec,
    Speed,
    Task,
    dump_manifest,
    load_manifest,
    parse_manifest,
)
from models.registry import (
    SHIPPED_DIR,
    Broken,
    ModelEntry,
    Registry,
    check_against_file,
    default_roots,
    device_cache,
    sha256_of,
    verify,
)

__all__ = [
    "SHIPPED_DIR",
    "Bilingual",
    "Broken",
    "InputSpec",
    "Label",
    "MadeBy",
    "Manifest",
    "ManifestError",
    "Metric",
    "ModelEntry",
    "ModelError",
    "ModelFileError",
    "ModelNotFoundError",
    "Normalise",
    "OutputSpec",
    "Registry",
    "Speed",
    "Task",
    "check_against_file",
    "default_roots",
    "device_cache",
    "dump_manifest",
    "load_manifest",
    "parse_manifest",
    "sha256_of",
    "verify",
]
