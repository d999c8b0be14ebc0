"""The forward camera: a pinhole model rendered with OpenCV warps, no 3-D engine.

The floor is one perspective warp of the floor image (a plane maps to the
image by a homography). Upright things are faces drawn far to near on top,
clipped to the view. ``read()`` then adds what real cameras do: lighting
changes, blur, noise, JPEG artefacts (all seeded, all off by default)::

    cam = robot.sensors.camera(CameraSpec(width=320, height=240, tilt_deg=-20))
    frame = cam.read()          # 240 x 320 x 3 uint8 BGR
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from hardware.sim.colour import bgr
from hardware.sim.floor import fill_rows
from hardware.sim.raster import fill_polygon, paste_quad
from hardware.sim.scene import Face, prism_faces
from hardware.sim.specs import CameraSpec

if TYPE_CHECKING:
    from hardware.sim.body import Body
    from hardware.sim.view import CameraView

__all__ = ["SimCamera"]

Image = NDArray[np.uint8]
Points = NDArray[np.float64]
NEAR = 0.01  # metres
SKY = (196, 200, 204)  # the room beyond the floor, BGR
OUTSIDE = (96, 96, 96)  # floor beyond the world's edge
_SAFE_PX = 16000.0  # corners further off the picture than this are clipped before filling


def _clip(poly: Points, plane: Points) -> Points:
    """Sutherland-Hodgman: keep the part of ``poly`` (k, 3) where ``plane . (p, 1) >= 0``."""
    d = poly @ plane[:3] + plane[3]
    if (d >= 0).all():
        return poly
    out = []
    k = len(poly)
    for i in range(k):
        p, q = poly[i], poly[(i + 1) % k]
        dp, dq = d[i], d[(i + 1) % k]
        if dp >= 0:
            out.append(p)
        if (dp >= 0) != (dq >= 0):
            out.append(p + (q - p) * (dp / (dp - dq)))
    return np.array(out).reshape(-1, 3)


@dataclass(frozen=True)
class _InView:
    """The scene's corners seen from the camera, with per-face ranges (see ``_scene_in_view``)."""

    cam: Points  # (V, 3) camera coordinates: right, down, forward
    uv: Points  # (V, 2) pixels (meaningless where forward <= 0)
    starts: list[int]  # face i's corners are rows starts[i]:ends[i]
    ends: list[int]
    z_min: NDArray[np.float64]  # (F,) nearest and farthest corner, along the view
    z_max: NDArray[np.float64]
    off: NDArray[np.bool_]  # (F,) wholly off one side of the picture
    plain: NDArray[np.bool_]  # (F,) in front of the lens and near the picture: no clipping


class SimCamera:
    """A camera on a simulated robot; ``read()`` returns a new BGR frame each call."""

    def __init__(self, view: CameraView, body: Body, spec: CameraSpec) -> None:
        self._view = view
        self.body = body
        self.spec = spec
        w, h = spec.width, spec.height
        self.fx = (w / 2) / math.tan(math.radians(spec.fov_deg) / 2)
        self.fy = self.fx
        self.cx = w / 2 - 0.5
        self.cy = h / 2 - 0.5
        self.frames = 0
        self._rng = np.random.default_rng([spec.seed, body.index, 7])
        self._key: tuple[object, ...] | None = None
        self._clean: Image | None = None
        self._falloff: NDArray[np.float32] | None = None
        self._noise_bank: NDArray[np.int16] | None = None
        m = 2.0  # pixels of margin around the view when clipping
        self._planes = [
            np.array([0.0, 0.0, 1.0, -NEAR]),
            np.array([1.0, 0.0, (self.cx + m) / self.fx, 0.0]),
            np.array([-1.0, 0.0, (w - 1 - self.cx + m) / self.fx, 0.0]),
            np.array([0.0, 1.0, (self.cy + m) / self.fy, 0.0]),
            np.array([0.0, -1.0, (h - 1 - self.cy + m) / self.fy, 0.0]),
        ]
        self._far_corner = np.array([w + 1.0, h + 1.0])
        self._focal = np.array([self.fx, self.fy])
        self._centre = np.array([self.cx, self.cy])
        self._plane_normals = np.array([p[:3] for p in self._planes]).T  # (3, planes)
        self._plane_offsets = np.array([p[3] for p in self._planes])
        self._packed: tuple[object, Points, list[int], list[int]] | None = None

    @property
    def intrinsics(self) -> Points:
        """The 3x3 camera matrix K."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def extrinsics(self) -> tuple[Points, Points]:
        """(C, R): camera centre in the world and the world-to-camera rotation (rows: right, down, forward)."""
        s = self.spec
        pose = self.body.pose
        x, y = self.body.mount_point(s.x, s.y)
        yaw = math.radians(pose.heading + s.angle)
        tilt = -math.radians(s.tilt_deg)  # positive: down
        f0, f1, f2 = math.cos(yaw) * math.cos(tilt), math.sin(yaw) * math.cos(tilt), -math.sin(tilt)
        r0, r1, r2 = math.sin(yaw), -math.cos(yaw), 0.0
        rows = [
            [r0, r1, r2],
            [f1 * r2 - f2 * r1, f2 * r0 - f0 * r2, f0 * r1 - f1 * r0],  # down = forward x right
            [f0, f1, f2],
        ]
        return np.array([x, y, s.height_m]), np.array(rows)

    def project(self, points: Points) -> tuple[Points, NDArray[np.float64]]:
        """World points (N, 3) -> pixel coordinates (N, 2) and depth (N,) in metres."""
        c, rot = self.extrinsics()
        cam = (np.asarray(points, np.float64) - c) @ rot.T
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.column_stack(
                [self.fx * cam[:, 0] / z + self.cx, self.fy * cam[:, 1] / z + self.cy]
            )
        return uv, z

    # -- rendering ---------------------------------------------------------------
    def _floor(self, c: Points, rot: Points) -> Image:
        floor = self._view.floor
        k = self.intrinsics
        ground = k @ np.column_stack([rot[:, 0], rot[:, 1], -rot @ c])
        to_world = np.array(
            [
                [1 / floor.ppm, 0, 0.5 / floor.ppm],
                [0, -1 / floor.ppm, floor.height - 0.5 / floor.ppm],
                [0, 0, 1],
            ]
        )
        # rows whose rays do not go down see the room, not the floor
        horizon = self.cy + self.fy * math.tan(math.radians(self.spec.tilt_deg))
        sky_rows = min(self.spec.height, max(0, math.floor(horizon) + 1))
        img = floor.warp(ground @ to_world, (self.spec.width, self.spec.height), sky_rows, OUTSIDE)
        fill_rows(img, 0, sky_rows, SKY)
        return img

    def _robot_faces(self) -> list[Face]:
        faces: list[Face] = []
        for other in self._view.others(self.body):
            faces += prism_faces(other.outline(), 0.0, other.spec.height, bgr(other.spec.colour))
        return faces

    def _scene_in_view(self, c: Points, rot: Points) -> _InView:
        """Every corner of the scene's faces in camera and pixel coordinates, in one pass."""
        scene = self._view.scene
        if self._packed is None or self._packed[0] is not scene:
            points = [f.points for f in scene.faces]
            ends = np.cumsum([len(p) for p in points]).tolist()
            starts = [0, *ends[:-1]]
            corners = np.vstack(points) if points else np.zeros((0, 3))
            self._packed = (scene, corners, starts, ends)
        _, corners, starts, ends = self._packed
        if not starts:
            none = np.zeros(0, np.bool_)
            return _InView(corners, corners[:, :2], [], [], np.zeros(0), np.zeros(0), none, none)
        cam = (corners - c) @ rot.T
        z = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = cam[:, :2] * self._focal / cam[:, 2:3] + self._centre
            lo = np.minimum.reduceat(uv, starts, axis=0)
            hi = np.maximum.reduceat(uv, starts, axis=0)
        z_min = np.minimum.reduceat(z, starts)
        front = z_min >= NEAR  # pixels mean something only for corners in front of the lens
        # wholly left of, right of, above or below the picture (2 px margin)
        off = front & ((hi < -2.0) | (lo > self._far_corner)).any(axis=1)
        # OpenCV's fill works in 16.16 fixed point: corners far off the picture need clipping
        wild = ((lo < -_SAFE_PX) | (hi > _SAFE_PX)).any(axis=1)
        return _InView(
            cam,
            uv,
            starts,
            ends,
            z_min,
            np.maximum.reduceat(z, starts),
            np.asarray(off, np.bool_),
            np.asarray(front & ~wild, np.bool_),
        )

    def _draw_face(self, img: Image, face: Face, cam: Points, uv: Points | None) -> None:
        """Draw one face given its corners in camera coordinates, and in pixels if it needs no clipping.

        Without ``uv``, a face is cut at the near plane, and also at the
        picture's sides (with a margin) if it still reaches too far off the
        picture for OpenCV; a textured face reaching behind the lens is not drawn.
        """
        if face.texture is not None:
            if (cam[:, 2] < NEAR).any():
                return
            paste_quad(img, face.texture, self._pixels(cam) if uv is None else uv)
            return
        if uv is None:
            cam = _clip(cam, self._planes[0])  # the near plane: nothing behind the lens
            if len(cam) < 3:
                return
            uv = self._pixels(cam)
            if (np.abs(uv) > _SAFE_PX).any():  # too far off the picture for OpenCV's fill
                for plane in self._planes[1:]:
                    cam = _clip(cam, plane)
                    if len(cam) < 3:
                        return
                uv = self._pixels(cam)
        fill_polygon(img, uv, face.colour)

    def _pixels(self, cam: Points) -> Points:
        """Camera coordinates (k, 3), all in front of the lens -> pixel coordinates (k, 2)."""
        return np.asarray(cam[:, :2] * self._focal / cam[:, 2:3] + self._centre, np.float64)

    def render(self) -> Image:
        """The scene as the camera sees it, without noise or lighting effects (a new array)."""
        with self._view.held():
            return self._render()

    def _render(self) -> Image:
        key = self._view.state_key()
        if key == self._key and self._clean is not None:
            return self._clean.copy()
        c, rot = self.extrinsics()
        img = self._floor(c, rot)
        scene = self._view.scene
        forward = rot[2]
        faces = list(scene.faces)
        centres, normals, radii = scene.centres, scene.normals, scene.radii
        extra = self._robot_faces()
        if extra:
            faces += extra
            centres = np.vstack([centres, [f.points.mean(axis=0) for f in extra]])
            normals = np.vstack(
                [normals, [f.normal if f.normal is not None else np.zeros(3) for f in extra]]
            )
            radii = np.concatenate(
                [
                    radii,
                    [
                        float(np.linalg.norm(f.points - f.points.mean(axis=0), axis=1).max())
                        for f in extra
                    ],
                ]
            )
        if faces:
            rel = c - centres
            facing = (rel * normals).sum(axis=1) > 0
            two_sided = ~normals.any(axis=1)
            ahead = (-rel) @ forward > -radii
            dist = np.linalg.norm(rel, axis=1)
            visible = np.nonzero((facing | two_sided) & ahead)[0]
            view = self._scene_in_view(c, rot)
            known = len(view.starts)
            for i in visible[np.argsort(-dist[visible], kind="stable")].tolist():
                face = faces[i]
                if i >= known:  # another robot
                    self._draw_face(img, face, (face.points - c) @ rot.T, None)
                    continue
                if view.z_max[i] < NEAR or view.off[i]:
                    continue
                s, e = view.starts[i], view.ends[i]
                uv = view.uv[s:e] if view.plain[i] else None
                self._draw_face(img, face, view.cam[s:e], uv)
        self._key, self._clean = key, img
        return img.copy()

    def _noise(self) -> NDArray[np.int16]:
        """Pixel noise for one frame: a random window of a seeded bank twice the frame's size."""
        h, w = self.spec.height, self.spec.width
        if self._noise_bank is None:
            bank = self._rng.standard_normal((2 * h, 2 * w, 3), np.float32) * self.spec.noise
            self._noise_bank = np.round(bank).astype(np.int16)
        dy, dx = (int(v) for v in self._rng.integers(0, (h, w)))
        return self._noise_bank[dy : dy + h, dx : dx + w]

    def _vignette(self) -> NDArray[np.float32]:
        if self._falloff is None:
            h, w = self.spec.height, self.spec.width
            y, x = np.mgrid[0:h, 0:w].astype(np.float32)
            r2 = ((x - self.cx) / (w / 2)) ** 2 + ((y - self.cy) / (h / 2)) ** 2
            gain = 1.0 - self.spec.vignette * np.minimum(r2 / 2.0, 1.0)
            self._falloff = np.repeat(gain[:, :, None], 3, axis=2).astype(np.float32)
        return self._falloff

    def read(self) -> Image:
        """A new frame (H x W x 3 uint8 BGR) with the spec's lighting, smear, blur, vignette, noise, JPEG."""
        s = self.spec
        img = self.render()
        self.frames += 1
        gain = s.brightness
        if s.light_variation:
            gain *= 1.0 + s.light_variation * float(self._rng.uniform(-1, 1))
            tint = 1.0 + (s.light_variation / 3) * self._rng.uniform(-1, 1, 3)
        else:
            tint = np.ones(3)
        if gain != 1.0 or s.light_variation:
            img = np.asarray(cv2.transform(img, np.diag(gain * tint)), np.uint8)
        if s.exposure_s:
            left, right = self.body.wheel_speeds
            smear = abs(right - left) / self.body.spec.wheel_base * s.exposure_s * self.fx
            if smear >= 1.5:
                img = np.asarray(cv2.blur(img, (round(smear), 1)), np.uint8)
        if s.blur_px:
            img = np.asarray(cv2.GaussianBlur(img, (0, 0), s.blur_px), np.uint8)
        if s.vignette:
            img = np.asarray(cv2.multiply(img, self._vignette(), dtype=cv2.CV_8U), np.uint8)
        if s.noise:
            img = np.asarray(cv2.add(img, self._noise(), dtype=cv2.CV_8U), np.uint8)
        if s.jpeg_quality is not None:
            ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, s.jpeg_quality])
            decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
            if decoded is not None:
                img = np.asarray(decoded, np.uint8)
        return img
