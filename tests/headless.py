"""Headless Chromium for page tests, driven over the DevTools protocol on a pipe (no port).

`Browser()` starts Debian's `chromium` (installed with apt-get when missing, as root) with
networking disabled: in its own network namespace (`unshare --net`, as root) and with every
host name unresolvable. `open(url)` loads a page and records every request it makes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("these tests need Debian's `chromium` (apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core"],
        check=True,
        env=env,
        timeout=900,
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


def _can_unshare_network() -> bool:
    """A network namespace of its own (root, and a kernel/container that allows it)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "--net", "--", "true"], capture_output=True, timeout=10)
    return done.returncode == 0


def _high(fd: int) -> int:
    """The same pipe end on a descriptor above 4, so that dup2 onto 3 and 4 never collides."""
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    def __init__(self, width: int = 1400, height: int = 1100) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="mdw-chromium-"))
        argv = [
            chromium_binary(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--allow-file-access-from-files",
            f"--window-size={width},{height}",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        if _can_unshare_network():
            argv = ["unshare", "--net", "--", *argv]
        # chromium reads commands on fd 3 and answers on fd 4
        cmd_read, self._cmd_write = (_high(fd) for fd in os.pipe())
        self._resp_read, resp_write = (_high(fd) for fd in os.pipe())

        def wire() -> None:
            os.dup2(cmd_read, 3)
            os.dup2(resp_write, 4)

        self.proc = subprocess.Popen(
            argv,
            preexec_fn=wire,  # noqa: PLW1509 - single-threaded test process
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_read)
        os.close(resp_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable", session=True)

    def _read_message(self, timeout: float) -> dict[str, Any]:
        import select

        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._resp_read], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._resp_read, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium exited")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self, method: str, params: dict | None = None, session: bool = False, timeout: float = 60
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._cmd_write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, url: str, ready: str = "document.readyState === 'complete'") -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + 60
        while not self.evaluate(f"!!({ready})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: never became ready ({ready})")
            time.sleep(0.1)

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def screenshot(self, path: Path) -> bytes:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        png = base64.b64decode(data)
        path.write_bytes(png)
        return png

    def distinct_colours(self, png: bytes) -> int:
        """Colours in a screenshot, counted by the browser itself (a blank page has one)."""
        src = "data:image/png;base64," + base64.b64encode(png).decode()
        return self.evaluate(
            "new Promise(done => { const img = new Image(); img.onload = () => {"
            " const c = document.createElement('canvas'); c.width = img.width;"
            " c.height = img.height; const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
            " const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();"
            " for (let i = 0; i < d.length; i += 16)"
            " seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);"
            f" done(seen.size); }}; img.src = {json.dumps(src)}; }})"
        )

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._cmd_write, self._resp_read):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)
