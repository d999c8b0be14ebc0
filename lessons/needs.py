"""Before a lesson starts: are the models it needs on this robot?

``lesson.yaml`` names them: ``models`` lists models RoboClass ships (or a
teacher installed), ``own_model`` a model the student taught the robot with
:mod:`vision.teach` and saved under a name (or that the teacher sent to this
robot through the console)::

    own_model: {name: my-signs, task: classify, labels: [stop, left, right]}

:func:`check_models` looks for them where the student's program will
(``registry``); when one is missing or does not fit, it raises
:class:`ModelMissingError` with a message a student can act on, in English and
Chinese.
"""

from __future__ import annotations

from lessons.errors import ModelMissingError
from lessons.model import Lesson, OwnModel
from models import ModelEntry, ModelError, Registry
from rcbase import Text

__all__ = ["check_models"]

_TASKS = {"classify": ("tells pictures apart", "分辨图片"), "detect": ("finds things", "找东西")}


def check_models(lesson: Lesson, registry: Registry) -> None:
    """Raise :class:`ModelMissingError` unless every model ``lesson`` needs is in ``registry``."""
    for name in lesson.model.models:
        try:
            registry.find(name).read_verified()
        except ModelError as exc:
            raise ModelMissingError(
                Text(
                    f"This lesson needs the model {name!r}, and this robot cannot load it "
                    f"({exc.message.en}). Ask your teacher to install it.",
                    f"这节课需要模型 {name!r}，但这台机器人无法加载它（{exc.message.zh}）。请老师安装它。",
                )
            ) from exc
    if lesson.model.own_model is not None:
        _check_own(lesson.model.own_model, registry)


def _find_own(own: OwnModel, registry: Registry) -> ModelEntry | None:
    try:
        entry = registry.find(own.name)
    except ModelError:
        return None
    return None if entry.origin == "package" else entry  # shipped with RoboClass: not yours


def _check_own(own: OwnModel, registry: Registry) -> None:
    name = own.name
    entry = _find_own(own, registry)
    if entry is None:
        raise ModelMissingError(
            Text(
                f'Your robot has not learned "{name}" yet. Teach it first: do the lesson '
                f'"Teach your robot" (it saves your model as {name}), or run `roboclass teach '
                f"export DATASET --name {name}`. Or ask your teacher to send your model to "
                "this robot.",
                f"你的机器人还没有学会“{name}”。请先教它：做“教机器人认东西”这节课"
                f"（它会把你的模型保存为 {name}），或者运行 `roboclass teach export 数据集 "
                f"--name {name}`。也可以请老师把你的模型发到这台机器人上。",
            )
        )
    manifest = entry.manifest
    if manifest.task != own.task:
        en, zh = _TASKS[own.task]
        raise ModelMissingError(
            Text(
                f'"{name}" on this robot is a {manifest.task} model, but this lesson needs a '
                f"model that {en} ({own.task}). Teach your robot again with your own pictures.",
                f"这台机器人上的“{name}”是 {manifest.task} 模型，但这节课需要能{zh}的模型"
                f"（{own.task}）。请用你自己的图片重新教机器人。",
            )
        )
    missing = [label for label in own.labels if label not in manifest.label_ids()]
    if missing:
        knows, lacks = ", ".join(manifest.label_ids()), ", ".join(missing)
        raise ModelMissingError(
            Text(
                f'Your model "{name}" knows {knows}, but not {lacks}. Take pictures of {lacks} '
                "too, and train it again.",
                f"你的模型“{name}”认识 {knows}，但不认识 {lacks}。请也给 {lacks} 拍照，再重新训练。",
            )
        )
    try:
        entry.read_verified()
    except ModelError as exc:
        raise ModelMissingError(
            Text(
                f'Your model "{name}" has changed since it was saved (its file does not match '
                "its manifest). Save it again, or ask your teacher to send it again.",
                f"你的模型“{name}”保存之后被改动过（文件与清单不符）。请重新保存，或请老师重新发送。",
            )
        ) from exc
