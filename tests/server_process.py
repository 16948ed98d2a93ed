"""Run a model server as a subprocess for the length of a ``with`` block: start it, wait for
its own readiness signal (an HTTP URL answering 200), always stop it afterwards (terminate,
then kill). Used for ``transformers serve`` and llama.cpp's server."""
from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from pathlib import Path


def log_tail(log: Path, n: int = 3000) -> str:
    """The last ``n`` characters of a server's log file."""
    return Path(log).read_text(errors="replace")[-n:]


@contextlib.contextmanager
def running_server(command: list[str], ready_url: str, log: Path, name: str,
                   ready_timeout_s: float, env: dict[str, str] | None = None):
    """Yield the ``subprocess.Popen`` of ``command`` (output to ``log``) once ``ready_url``
    answers 200; stop the process on leaving, whatever happened.

    Raises:
        RuntimeError: the process exited, or ``ready_url`` did not answer within
            ``ready_timeout_s`` seconds; the message names ``name`` and ends with the log's tail.
    """
    with Path(log).open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n" + log_tail(log))
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {ready_url}:\n" + log_tail(log))
            time.sleep(0.2)  # polling the readiness endpoint, not waiting a fixed time
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
