"""Public names (httpx's test): each package's top level is exactly its ``__all__``, and
every name it exported before still imports for one release, with one warning."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

import pytest

from rcbase.deprecation import moved_text

# What each package exported before its list was reviewed.
OLD = {
    "lessons": [
        "BundleError", "Grade", "Lesson", "LessonError", "LessonFormatError", "LessonModel",
        "LessonResult", "ModelMissingError", "RubricItem", "Run", "RunnerError",
        "builtin_lessons", "bundle_sha256", "find_lesson", "item", "load_lesson", "pack_bundle",
        "report", "run_lesson", "unpack_bundle",
    ],
    "vision.teach": [
        "DEFAULT_FEATURES", "MIN_PER_LABEL", "Dataset", "DatasetError", "Embedder", "Evaluation",
        "ExportError", "Head", "Report", "TeachError", "Timing", "TrainedModel", "capture",
        "capture_on_button", "confusion_picture", "datasets", "datasets_dir", "evaluate",
        "save_confusion", "train",
    ],
    "models": [
        "SHIPPED_DIR", "Bilingual", "Broken", "InputSpec", "Label", "MadeBy", "Manifest",
        "ManifestError", "Metric", "ModelEntry", "ModelError", "ModelFileError",
        "ModelNotFoundError", "Normalise", "OutputSpec", "Registry", "Speed",
        "check_against_file", "default_roots", "device_cache", "dump_manifest", "load_manifest",
        "parse_manifest", "sha256_of", "verify",
    ],
    "vision": [
        "COLOURS", "ArucoReader", "Blob", "Box", "Classifier", "Detection", "Detector", "Face",
        "FaceDetector", "FrameError", "LatestSlot", "Letterbox", "LineReading", "Marker",
        "Pipeline", "Prediction", "Preprocessor", "QRCode", "Result", "Runner",
        "RunnerClosedError", "SignReader", "SignSeen", "StaleFrameError", "VisionError",
        "cjk_font_available", "decode_yolo", "default_threads", "draw_detections",
        "draw_prediction", "draw_text", "encode_jpeg", "find_blobs", "find_line",
        "make_session", "mjpeg_part", "read_qr",
    ],
}  # fmt: skip
PACKAGES = sorted(OLD)


NOT_NAMES = {"annotations", "TYPE_CHECKING"}  # `from __future__ ...`, `from typing ...`


def public(package: ModuleType) -> set[str]:
    """The names a user sees at the package's top level (not its submodules)."""
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name not in NOT_NAMES
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_the_top_level_is_exactly_all(name: str) -> None:
    package = importlib.import_module(name)
    assert len(set(package.__all__)) == len(package.__all__), "a name is listed twice"
    assert public(package) == set(package.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a public name never warns
        for attr in package.__all__:
            assert getattr(package, attr) is not None


@pytest.mark.parametrize(
    ("package_name", "old"),
    [(p, n) for p in PACKAGES for n in OLD[p] if n not in importlib.import_module(p).__all__],
)
def test_every_old_name_still_imports_and_warns_once(package_name: str, old: str) -> None:
    package = importlib.import_module(package_name)
    with pytest.warns(DeprecationWarning) as record:
        value = getattr(package, old)
    assert len(record) == 1
    (warning,) = record
    assert warning.filename == __file__  # points at the line that used the old name
    message = str(warning.message)
    home = message.split("use `from ", 1)[1].split(" import", 1)[0]
    text = moved_text(package_name, home, old)
    assert message == f"{text.en}\n{text.zh}"  # in English and in Chinese
    assert value is getattr(importlib.import_module(home), old)
    assert old in importlib.import_module(home).__all__


@pytest.mark.parametrize("name", PACKAGES)
def test_an_unknown_name_is_still_an_attribute_error(name: str) -> None:
    package = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # noqa: B018
    assert not hasattr(package, "no_such_name")
