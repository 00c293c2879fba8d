"""Real servers for tests that need them: gunicorn serving ``wsgi:app`` plus ``jinshang worker``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from market.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, web: subprocess.Popen, seconds: float = 90) -> None:
    """Until ``/healthz`` answers 200; fail at once if gunicorn exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {web.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {seconds} s")


@contextmanager
def marketplace(env: dict[str, str], *, web_log: IO, worker_log: IO, web_workers: int = 2,
                gunicorn_args: Sequence[str] = (), worker_args: Sequence[str] = ()) -> Iterator[str]:
    """Start gunicorn and the job worker with ``env``; yield the base URL once it answers; stop both.

    ``env`` must name its mode (JINSHANG_MODE): without one, gunicorn runs in production mode and refuses
    demo settings."""
    assert env.get("JINSHANG_MODE") in ("demo", "test", "production"), "say which mode the servers run in"
    port = free_port()
    worker = subprocess.Popen([sys.executable, "-m", "market.cli", "worker", *worker_args],
                              env=env, cwd=PROJECT_ROOT, stdout=worker_log, stderr=subprocess.STDOUT)
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(web_workers),
                            "--bind", f"127.0.0.1:{port}", *gunicorn_args, "wsgi:app"],
                           env=env, cwd=PROJECT_ROOT, stdout=web_log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, web)
        yield url
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
