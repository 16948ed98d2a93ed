"""The test kit's server runner: a server that dies or never answers fails with its log, and
is never left running."""
from __future__ import annotations

import os
import sys

import pytest

from tests.openai_wire import free_port
from tests.server_process import running_server


def test_a_server_that_exits_fails_with_its_log(tmp_path):
    command = [sys.executable, "-c", "print('cannot open the model file'); raise SystemExit(3)"]
    with pytest.raises(RuntimeError, match=r"(?s)toy server exited:.*cannot open the model file"):
        with running_server(command, f"http://127.0.0.1:{free_port()}/health", tmp_path / "log", "toy server", 60):
            pass


def test_a_server_that_never_answers_is_stopped(tmp_path):
    command = [sys.executable, "-c", "import os, time; print('loading', os.getpid(), flush=True); time.sleep(600)"]
    with pytest.raises(RuntimeError, match=r"(?s)did not answer .*/health:.*loading"):
        with running_server(command, f"http://127.0.0.1:{free_port()}/health", tmp_path / "log", "toy server", 5):
            pass
    pid = int((tmp_path / "log").read_text().split()[1])
    with pytest.raises(ProcessLookupError):  # stopped and reaped, not left running
        os.kill(pid, 0)


def test_a_ready_server_is_yielded_then_stopped(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    with running_server(command, f"http://127.0.0.1:{port}/", tmp_path / "log", "toy server", 60) as proc:
        assert proc.poll() is None
    assert proc.poll() is not None
