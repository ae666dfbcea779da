"""Concurrent writers: a second import waits (with backoff and a message) while another holds
the write lock, never prints SQL, and two processes importing into one study both succeed."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading
import time

import pytest

from kinresist.core import Measurement, Provenance, Result, record
from kinresist.store import open_store
from kinresist.store.api import StoreBusyError


def _result(tag: str) -> Result:
    return Result(
        workflow="ddpcr.analyze",
        schema_version="2.0",
        provenance=Provenance.build(inputs={"x": tag.encode()}),
        measurements=[
            Measurement(
                "ddpcr",
                "ALK_G1202R",
                "fractional_abundance",
                1.0,
                "%",
                sample=f"s-{tag}",
                alteration="ALK G1202R",
            )
        ],
    )


def _record_many(url: str, tag: str, n: int) -> None:
    with open_store(url) as store:
        for i in range(n):
            record(_result(f"{tag}{i}"), store, study="shared study", subject=f"P-{tag}")


def test_sqlite_writer_waits_for_the_lock_and_says_so(tmp_path, capsys) -> None:
    path = tmp_path / "s.sqlite"
    with open_store(str(path)):
        pass
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's long import holds the write lock
    release = threading.Timer(2.5, holder.rollback)
    release.start()
    t0 = time.monotonic()
    with open_store(str(path)) as store:
        summary = store.write(lambda tx: record_in_tx(tx), timeout=60)
    waited = time.monotonic() - t0
    release.join()
    holder.close()
    assert summary.measurements == 1
    assert waited >= 2.0
    err = capsys.readouterr().err
    assert "store busy" in err
    assert "INSERT" not in err
    assert "SELECT" not in err


def test_sqlite_busy_timeout_is_a_clear_error(tmp_path, monkeypatch) -> None:
    path = tmp_path / "s.sqlite"
    with open_store(str(path)) as store:
        before = store.counts()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with open_store(str(path)) as store:
            with pytest.raises(StoreBusyError) as info:
                store.write(lambda tx: record_in_tx(tx), timeout=1.5)
            text = str(info.value)
            assert "nothing was written" in text
            assert "KINRESIST_DB_TIMEOUT" in text
            assert "INSERT" not in text
            assert "[SQL" not in text
    finally:
        holder.rollback()
        holder.close()
    with open_store(str(path)) as store:
        assert store.counts() == before


def record_in_tx(tx):
    from kinresist.core.record import record_in

    return record_in(tx, _result("t"), study="S", subject="P1")


def test_two_processes_import_into_one_study(store_url: str) -> None:
    with open_store(store_url):
        pass  # migrate once, before the writers start
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(store_url, tag, 8)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with open_store(store_url) as store:
        counts = store.counts()
        assert counts["study"] == 1
        assert counts["subject"] == 2
        assert counts["measurement"] == 16
        assert len(store.by_alteration("ALK G1202R")) == 16
