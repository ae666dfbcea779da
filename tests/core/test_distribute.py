"""Scale-out without a cluster: local runs, addresses, and what an unreachable scheduler says.

The cluster tests (a real scheduler and two workers) are in test_distribute_dask.py.
"""

from __future__ import annotations

import socket
from functools import partial
from pathlib import Path

import pytest

from kinresist.core.distribute import DaskCluster, dask_address, environment, map_ordered
from kinresist.errors import InputError
from synthscreen import write_screen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_local_run_is_a_lazy_ordered_map() -> None:
    seen: list[int] = []

    def chunks():  # type: ignore[no-untyped-def]
        for k in range(5):
            seen.append(k)
            yield k

    results = map_ordered(partial(pow, 2), chunks())
    assert seen == []  # nothing read before the first result is asked for
    assert next(results) == 1
    assert seen == [0]
    assert list(results) == [2, 4, 8, 16]


def test_local_threads_keep_order_bound_the_window_and_raise_in_order() -> None:
    """``workers=2``: results in input order even when a later chunk finishes first, at most
    two chunks read ahead of the consumer, and a failing chunk raises where a serial run
    would (after the results before it), with the chunks after it not started."""
    import threading
    import time

    started: list[int] = []
    lock = threading.Lock()

    def slow_first(k: int) -> int:
        with lock:
            started.append(k)
        time.sleep(0.05 if k % 2 == 0 else 0.0)  # even chunks finish after the odd ones
        if k == 5:
            raise InputError(f"chunk {k} is bad")
        return k * k

    read: list[int] = []

    def chunks():  # type: ignore[no-untyped-def]
        for k in range(10):
            read.append(k)
            yield k

    results = map_ordered(slow_first, chunks(), workers=2)
    assert next(results) == 0
    assert len(read) <= 3  # the window: two in flight, plus the one being handed over
    got = [0]
    with pytest.raises(InputError, match="chunk 5"):
        for value in results:
            got.append(value)
    assert got == [0, 1, 4, 9, 16]
    assert max(started) <= 6  # nothing far beyond the failing chunk was started
    assert list(map_ordered(partial(pow, 2), range(7), workers=2)) == [2**k for k in range(7)]


def test_address_from_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KINRESIST_DASK", raising=False)
    assert dask_address(None) is None
    monkeypatch.setenv("KINRESIST_DASK", " tcp://10.0.0.5:8786 ")
    assert dask_address(None) == "tcp://10.0.0.5:8786"
    assert dask_address("tcp://127.0.0.1:9000") == "tcp://127.0.0.1:9000"


def test_environment_names_every_pinned_package() -> None:
    env = environment()
    assert set(env) == {"kinresist", "numpy", "scipy", "numba", "pandas", "pyarrow"}
    assert "absent" not in env.values()


def test_unreachable_scheduler_is_an_input_error() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(InputError, match="cannot reach the Dask scheduler") as info:
        list(map_ordered(abs, [1, 2], dask=address, timeout=2))
    assert address in str(info.value)
    assert "leave both unset to run locally" in str(info.value)
    with pytest.raises(InputError, match="not a scheduler address"):
        DaskCluster("nonsense://x", timeout=1).__enter__()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_cli_unreachable_scheduler_exits_2_in_one_line(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("KINRESIST_DASK_TIMEOUT", "2")
    address = f"tcp://127.0.0.1:{_free_port()}"
    src = write_screen(tmp_path / "s.csv", 3)
    args = ["synergy", "score", src, "--out", tmp_path / "o.parquet", "--chunk-blocks", 2]
    if how == "option":
        args += ["--dask", address]
    else:
        monkeypatch.setenv("KINRESIST_DASK", address)
    res = cli(args)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("InputError: cannot reach the Dask scheduler at")
    assert address in lines[0]
    assert "Traceback" not in res.stderr
    assert not list(tmp_path.glob("o*"))


def test_bad_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINRESIST_DASK_TIMEOUT", "soon")
    with pytest.raises(InputError, match="KINRESIST_DASK_TIMEOUT"):
        DaskCluster("tcp://127.0.0.1:1")


def test_only_distributable_workflows_take_dask(cli) -> None:  # type: ignore[no-untyped-def]
    from kinresist.core import workflows

    assert workflows()["synergy.score"].distributable
    assert "--dask" in cli(["synergy", "score", "--help"]).stdout
    assert "--dask" not in cli(["synergy", "ci", "--help"]).stdout
