"""A dataset: your own labelled pictures, kept on the robot as plain folders.

::

    from vision.teach import Dataset

    data = Dataset("my-signs")            # opens it, or makes it on the first add()
    data.add("stop", frame)               # one picture, labelled "stop"
    data.add("go", frame, zh="走")        # a Chinese name for the label, once
    print(data.counts())                  # {'go': 1, 'stop': 1}

On disk (``~/.local/share/roboclass/datasets/my-signs``)::

    manifest.json     labels (with English and Chinese names) and every picture
    stop/0001.jpg     the pictures, one folder per label
    go/0001.jpg

Pictures stay on this robot: nothing here sends them anywhere.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rcbase import Text, paths
from vision.preprocess import Frame, check_frame
from vision.teach.errors import DatasetError

__all__ = ["Dataset", "datasets", "datasets_dir"]

logger = logging.getLogger(__name__)

FORMAT = 1
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_JPEG_QUALITY = 95


def datasets_dir() -> Path:
    """Where datasets live: ``<data folder>/datasets``."""
    return paths().data / "datasets"


def datasets(root: Path | None = None) -> list[str]:
    """The names of the datasets on this robot."""
    folder = root or datasets_dir()
    if not folder.is_dir():
        return []
    return sorted(p.parent.name for p in folder.glob("*/manifest.json"))


class Dataset:
    """Labelled pictures for teaching the robot, stored in ``root/name``.

    ``Dataset(name)`` opens the dataset of that name, or starts a new one
    (the folder is made by the first :meth:`add`).
    """

    def __init__(self, name: str, *, root: Path | None = None) -> None:
        if not NAME.match(name):
            raise DatasetError(
                Text(
                    f"{name!r} cannot be a dataset name: use small letters, digits and '-', "
                    "like 'my-signs'",
                    f"{name!r} 不能作为数据集名称：请用小写字母、数字和 '-'，例如 'my-signs'",
                )
            )
        self.name = name
        self.folder = (root or datasets_dir()) / name
        self._names: dict[str, dict[str, str]] = {}
        self._items: list[dict[str, str]] = []
        self._created = datetime.now(UTC).isoformat(timespec="seconds")
        if self.manifest_path.exists():
            self._load()

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def exists(self) -> bool:
        """True once the dataset has been saved (after the first :meth:`add`)."""
        return self.manifest_path.exists()

    @property
    def labels(self) -> list[str]:
        """The labels, in the order they were first used."""
        return list(self._names)

    def names(self, label: str) -> Text:
        """The English and Chinese names of ``label``."""
        n = self._names[label]
        return Text(n["en"], n["zh"])

    def counts(self) -> dict[str, int]:
        """How many pictures each label has: ``{'go': 20, 'stop': 21}``."""
        out = dict.fromkeys(self._names, 0)
        for item in self._items:
            out[item["label"]] += 1
        return out

    def __len__(self) -> int:
        return len(self._items)

    def add(
        self, label: str, frame: Frame, *, en: str | None = None, zh: str | None = None
    ) -> Path:
        """Save ``frame`` as one more picture of ``label``; return the picture's path.

        ``en``/``zh`` name the label for people (given once; later ones replace it).
        """
        if not LABEL.match(label):
            raise DatasetError(
                Text(
                    f"{label!r} cannot be a label: use letters, digits, '_', '-' or '.', "
                    "like 'stop' or 'green_light' (give the Chinese name with zh=...)",
                    f"{label!r} 不能作为标签：请用字母、数字、'_'、'-' 或 '.'，"
                    "例如 'stop'（中文名用 zh=... 给出）",
                )
            )
        image = check_frame(frame)
        if label not in self._names or en or zh:
            old = self._names.get(label, {})
            english = en or old.get("en") or label.replace("_", " ")
            self._names[label] = {"en": english, "zh": zh or old.get("zh") or english}
        number = 1 + max(
            (int(Path(i["file"]).stem) for i in self._items if i["label"] == label), default=0
        )
        relative = f"{label}/{number:04d}.jpg"
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        if not ok:
            raise DatasetError(
                Text("OpenCV could not encode the picture", "OpenCV 无法保存这张图片")
            )
        path.write_bytes(data.tobytes())
        self._items.append(
            {
                "file": relative,
                "label": label,
                "added": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        self._save()
        logger.debug("dataset %s: %s", self.name, relative)
        return path

    def pictures(self) -> Iterator[tuple[str, Frame]]:
        """Every ``(label, frame)``, in the order they were added."""
        for item in self._items:
            path = self.folder / item["file"]
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise DatasetError(
                    Text(
                        f"picture {path} is missing or not an image; delete its line from "
                        f"{self.manifest_path} or take the picture again",
                        f"图片 {path} 不见了或已损坏；请从 {self.manifest_path} 中删去这一行，或重新拍摄",
                    )
                )
            yield item["label"], np.asarray(image, np.uint8)

    def remove(self, label: str) -> int:
        """Forget every picture of ``label``; return how many there were."""
        gone = [i for i in self._items if i["label"] == label]
        self._items = [i for i in self._items if i["label"] != label]
        self._names.pop(label, None)
        shutil.rmtree(self.folder / label, ignore_errors=True)
        if self.exists:
            self._save()
        return len(gone)

    def files(self) -> list[tuple[str, str]]:
        """Every picture as ``(file, label)``, in the order :meth:`pictures` reads them."""
        return [(i["file"], i["label"]) for i in self._items]

    def discard(self, file: str) -> bool:
        """Forget one picture (``"stop/0003.jpg"``, as :meth:`files` names it); False: none."""
        kept = [i for i in self._items if i["file"] != file]
        if len(kept) == len(self._items):
            return False
        self._items = kept
        (self.folder / file).unlink(missing_ok=True)
        self._save()
        return True

    def rename(self, label: str, *, en: str | None = None, zh: str | None = None) -> None:
        """Give ``label`` new English and/or Chinese names (its pictures keep the label)."""
        if label not in self._names:
            raise DatasetError(Text(f"no label {label!r}", f"没有标签 {label!r}"))
        old = self._names[label]
        self._names[label] = {"en": en or old["en"], "zh": zh or old["zh"]}
        self._save()

    def delete(self) -> None:
        """Delete the whole dataset from this robot."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._names, self._items = {}, []

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.counts().items()) or "empty"
        return f"<Dataset {self.name} ({counts})>"

    # -- the manifest -------------------------------------------------------------------

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT,
            "name": self.name,
            "created": self._created,
            "labels": [{"id": k, **v} for k, v in self._names.items()],
            "pictures": self._items,
        }
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.manifest_path)

    def _load(self) -> None:
        try:
            data: Any = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            labels = {
                str(x["id"]): {"en": str(x["en"]), "zh": str(x["zh"])} for x in data["labels"]
            }
            items = [
                {"file": str(i["file"]), "label": str(i["label"]), "added": str(i.get("added", ""))}
                for i in data["pictures"]
            ]
            for item in items:
                if item["label"] not in labels:
                    raise ValueError(f"picture {item['file']} has unknown label {item['label']!r}")
                if ".." in Path(item["file"]).parts or Path(item["file"]).is_absolute():
                    raise ValueError(f"picture path {item['file']!r} leaves the dataset folder")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DatasetError(
                Text(
                    f"{self.manifest_path} is broken ({exc}); fix it, or delete the folder "
                    f"{self.folder} and collect the pictures again",
                    f"{self.manifest_path} 已损坏（{exc}）；请修好它，或删除文件夹 {self.folder} 后重新采集",
                )
            ) from exc
        self._created = str(data.get("created", self._created))
        self._names, self._items = labels, items
