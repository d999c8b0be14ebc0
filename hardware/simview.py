"""A live view of a simulated run in the browser: ``roboclass sim run --view``.

Served on 127.0.0.1 only, from the run's own process: a page with the
top-down view (robot, trail, sensor rays) and the robot's camera, updated
as MJPEG streams, and the run's state as JSON.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

from rcbase.closeable import Closeable

__all__ = ["SimView"]

logger = logging.getLogger(__name__)

FRAME_PERIOD_S = 0.1  # 10 pictures a second

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RoboClass 模拟器 · simulator</title>
<style>
 body {{ font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 1rem; background: #f4f4f0; }}
 .views {{ display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }}
 figure {{ margin: 0; background: white; padding: .5rem; border-radius: .5rem; }}
 img {{ display: block; max-width: 100%; }}
 #state {{ font-variant-numeric: tabular-nums; }}
</style></head>
<body>
<h1>模拟器 · Simulator: {world}</h1>
<p id="state">…</p>
<div class="views">
 <figure><img id="topdown" src="/topdown.mjpg" alt="top-down view"><figcaption>俯视图 · from above</figcaption></figure>
 <figure><img id="camera" src="/camera.mjpg" alt="robot camera"><figcaption>机器人摄像头 · robot camera</figcaption></figure>
</div>
<script>
async function poll() {{
  try {{
    const s = await (await fetch('/state.json')).json();
    const p = s.pose;
    document.getElementById('state').textContent =
      `t = ${{s.time.toFixed(1)}} s · x ${{p.x.toFixed(2)}} m · y ${{p.y.toFixed(2)}} m · ` +
      `${{p.heading.toFixed(0)}}° · 碰撞 collisions ${{s.collisions}} · 圈 laps ${{s.laps}}`;
  }} catch (e) {{ document.getElementById('state').textContent = '运行结束 · run ended'; return; }}
  setTimeout(poll, 500);
}}
poll();
</script>
</body></html>
"""


class SimView(Closeable):
    """Serves the view of ``backend`` (a :class:`hardware.backends.sim.SimBackend`)."""

    def __init__(self, backend: Any, port: int = 0) -> None:
        self.backend = backend
        self._camera = backend.body.sensors.camera()
        self._stop = threading.Event()
        view = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                view._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("view: " + format, *args)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="roboclass-simview", daemon=True
        )
        self._thread.start()
        logger.info("simulator view on http://127.0.0.1:%d/", self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _jpeg(self, which: str) -> bytes:
        world = self.backend.world
        with world.view.held():
            image = world.render_topdown(max_px=640) if which == "topdown" else self._camera.read()
        ok, data = cv2.imencode(".jpg", np.ascontiguousarray(image), [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            raise OSError("JPEG encoding failed")
        return bytes(data.tobytes())

    def _state(self) -> dict[str, Any]:
        body = self.backend.body
        with self.backend.world.view.held():
            pose = body.pose
            return {
                "time": self.backend.world.time,
                "pose": {"x": pose.x, "y": pose.y, "heading": pose.heading},
                "collisions": len(body.collisions),
                "laps": len(body.laps),
            }

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        try:
            if path == "/":
                self._send(
                    request,
                    "text/html; charset=utf-8",
                    PAGE.format(world=self.backend.world.model.name).encode(),
                )
            elif path == "/state.json":
                self._send(request, "application/json", json.dumps(self._state()).encode())
            elif path in ("/topdown.jpg", "/camera.jpg"):
                self._send(request, "image/jpeg", self._jpeg(path[1:-4]))
            elif path in ("/topdown.mjpg", "/camera.mjpg"):
                self._stream(request, path[1:-5])
            else:
                request.send_error(HTTPStatus.NOT_FOUND)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("view client went away")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, kind: str, data: bytes) -> None:
        request.send_response(HTTPStatus.OK)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(data)))
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(data)

    def _stream(self, request: BaseHTTPRequestHandler, which: str) -> None:
        request.send_response(HTTPStatus.OK)
        request.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        while not self._stop.is_set():
            data = self._jpeg(which)
            request.wfile.write(
                b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                + str(len(data)).encode()
                + b"\r\n\r\n"
                + data
                + b"\r\n"
            )
            self._stop.wait(FRAME_PERIOD_S)

    def _close(self) -> None:
        """Stop serving and join the server thread."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
