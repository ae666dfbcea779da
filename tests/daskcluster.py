"""A real Dask cluster on loopback for tests: one ``dask scheduler`` and N ``dask worker``
processes started from this virtual environment's ``dask`` command, always torn down.

Not a ``LocalCluster``: the workers are separate programs that import kinresist themselves,
as on a lab's cluster, so the tests see what pickling, imports and ordering do for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_TIMEOUT = 120.0  # seconds for the scheduler file and for every worker to register


def _dask_command() -> list[str]:
    exe = Path(sys.executable).with_name("dask")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "dask"]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Workers first (they say goodbye to the scheduler), then the scheduler; kill what lingers."""
    for group in (procs[1:], procs[:1]):
        for proc in group:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in group:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


@contextmanager
def dask_cluster(folder: Path, *, n_workers: int = 2) -> Iterator[str]:
    """Start a scheduler on 127.0.0.1 and ``n_workers`` one-thread workers; yield its address."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    env.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "False")
    scheduler_file = folder / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    logs = []

    def start(args: list[str], name: str) -> None:
        log = folder / f"{name}.log"
        logs.append(log)
        with log.open("wb") as fh:
            procs.append(
                subprocess.Popen(
                    [*_dask_command(), *args],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=folder,
                )
            )

    try:
        start(
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            "scheduler",
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT
        address = None
        while time.monotonic() < deadline:
            if procs[0].poll() is not None:
                msg = f"dask scheduler exited: {_log_tail(logs[0])}"
                raise RuntimeError(msg)
            if scheduler_file.exists():
                try:
                    address = json.loads(scheduler_file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass
            time.sleep(0.2)
        if address is None:
            msg = f"dask scheduler did not start in {STARTUP_TIMEOUT:g} s: {_log_tail(logs[0])}"
            raise RuntimeError(msg)
        for k in range(n_workers):
            start(
                ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1", "--name", f"w{k}", "--memory-limit", "0",
                 "--local-directory", str(folder / f"w{k}")],
                f"worker{k}",
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=STARTUP_TIMEOUT, set_as_default=False) as client:
            try:
                if n_workers:
                    client.wait_for_workers(n_workers, timeout=STARTUP_TIMEOUT)
            except TimeoutError:
                tails = "\n".join(_log_tail(log) for log in logs[1:])
                msg = (
                    f"{n_workers} dask workers did not register in {STARTUP_TIMEOUT:g} s:\n{tails}"
                )
                raise RuntimeError(msg) from None
        yield address
    finally:
        _stop(procs)
