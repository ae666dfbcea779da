"""The Dask path on a real cluster: a ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (tests/daskcluster.py), started once for this module and always torn down.

Reference: the local run of the same command. The result tables must be byte-identical:
Parquet tables equal (values, types, metadata; the envelope equal but for ``created``), CSV/TSV
files equal byte for byte (TSV: but for the ``## created`` line), NGS molecule counts equal
array for array. The chunks must really have run on the workers (their task counters move).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from daskcluster import dask_cluster
from kinresist.core.distribute import DaskCluster, map_ordered
from kinresist.errors import InputError
from synthscreen import screen_frame, write_screen

pytestmark = pytest.mark.slow

CHUNK = 6


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    try:
        with dask_cluster(tmp_path_factory.mktemp("dask"), n_workers=2) as address:
            yield address
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _transitions(dask_worker) -> int:  # type: ignore[no-untyped-def]
    return int(dask_worker.state.transition_counter)


def _executed(address: str) -> int:
    """Task state transitions on the workers so far (sum over workers; moves only with tasks)."""
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        return int(sum(client.run(_transitions).values()))


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if not ln.startswith("## created")]


def _same_parquet(a: Path, b: Path) -> None:
    import json

    import pyarrow.parquet as pq

    ta, tb = pq.read_table(a), pq.read_table(b)
    assert ta.schema.equals(tb.schema)
    assert ta.equals(tb)
    ma, mb = dict(ta.schema.metadata), dict(tb.schema.metadata)
    ea, eb = (json.loads(m.pop(b"kinresist")) for m in (ma, mb))
    ea.pop("created")
    eb.pop("created")
    assert ea == eb
    assert ma == mb


def test_synergy_screen_on_dask_equals_local(cluster: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = write_screen(tmp_path / "screen.csv", 26, odd_every=5)
    runs = {}
    for where, extra in (("local", []), ("dask", ["--dask", cluster])):
        before = _executed(cluster)
        out = tmp_path / where / "scores.parquet"
        res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", out,
                   "--csv", tmp_path / where / "cells.csv", *extra])  # fmt: skip
        assert res.exit_code == 0, res.stderr
        tsv = cli(["synergy", "score", src, "--chunk-blocks", CHUNK,
                   "--out", tmp_path / where / "scores.tsv", *extra])  # fmt: skip
        assert tsv.exit_code == 0, tsv.stderr
        runs[where] = _executed(cluster) - before
    assert runs["local"] == 0
    assert runs["dask"] >= 2 * 5  # 5 chunks, twice, each ran (several transitions) on a worker
    for name in ("scores.parquet", "scores.cells.parquet", "scores.measurements.parquet"):
        _same_parquet(tmp_path / "local" / name, tmp_path / "dask" / name)
    assert (tmp_path / "local/cells.csv").read_bytes() == (tmp_path / "dask/cells.csv").read_bytes()
    assert _lines(tmp_path / "local/scores.tsv") == _lines(tmp_path / "dask/scores.tsv")


def test_in_memory_json_on_dask_equals_local(cluster: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    src = write_screen(tmp_path / "small.parquet", 25)  # > 24 blocks: no figures (faster)
    docs = []
    for extra in ([], ["--dask", cluster]):
        res = cli(["synergy", "score", src, "--chunk-blocks", 10, "--format", "json", *extra])
        assert res.exit_code == 0, res.stderr
        doc = json.loads(res.stdout)
        doc.pop("created")
        docs.append(doc)
    assert docs[0] == docs[1]
    assert len(docs[0]["blocks"]) == 25


def _dose_table(path: Path, n: int) -> Path:
    """Tidy dose-response curves "<line> | <drug>" (9 doses, a flat curve every 11th)."""
    import pandas as pd

    rng = np.random.default_rng(19)
    doses = 10.0 ** np.arange(-3.0, 1.01, 0.5)
    rows = []
    for i in range(n):
        b, c, e = rng.uniform(0.6, 3.0), rng.uniform(0, 0.4), 10 ** rng.uniform(-2.5, 0.5)
        mean = np.ones_like(doses) if i % 11 == 0 else c + (1 - c) / (1 + (doses / e) ** b)
        for d, m in zip(doses, mean + rng.normal(0, 0.05, doses.size), strict=True):
            rows.append((f"L{i % 7} | drug{i:03d}", d, m))
    pd.DataFrame(rows, columns=["curve", "dose", "response"]).to_csv(path, index=False)
    return path


def test_dose_fit_on_dask_equals_local(cluster: str, cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``dose fit`` streamed in batches of 6 curves (8 batches) on the workers: the fits table
    (Parquet and TSV), its --table CSV and the measurements file equal the local run's; the
    in-memory JSON result (same batches) too."""
    import json

    from kinresist.dose import workflow as W

    src = _dose_table(tmp_path / "curves.csv", 45)
    monkeypatch.setattr(W, "BATCH_CURVES", CHUNK)
    monkeypatch.setattr(W, "STREAM_MIN_ROWS", 0)
    args = ["dose", "fit", "-i", src, "--dose-col", "dose", "--response-col", "response",
            "--group-col", "curve"]  # fmt: skip
    runs = {}
    for where, extra in (("local", []), ("dask", ["--dask", cluster])):
        before = _executed(cluster)
        res = cli([*args, "--out", tmp_path / where / "fits.parquet",
                   "--table", tmp_path / where / "fits.csv", *extra])  # fmt: skip
        assert res.exit_code == 0, res.stderr
        tsv = cli([*args, "--format", "tsv", "--out", tmp_path / where / "fits.tsv", *extra])
        assert tsv.exit_code == 0, tsv.stderr
        runs[where] = _executed(cluster) - before
    assert runs["local"] == 0
    assert runs["dask"] >= 2 * 8  # 8 batches, twice, each ran on a worker
    for name in ("fits.parquet", "fits.measurements.parquet"):
        _same_parquet(tmp_path / "local" / name, tmp_path / "dask" / name)
    assert (tmp_path / "local/fits.csv").read_bytes() == (tmp_path / "dask/fits.csv").read_bytes()
    assert _lines(tmp_path / "local/fits.tsv") == _lines(tmp_path / "dask/fits.tsv")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "local/fits.parquet").num_rows == 45
    monkeypatch.setattr(W, "STREAM_MIN_ROWS", 10**12)
    docs = []
    for extra in ([], ["--dask", cluster]):
        res = cli([*args, "--format", "json", *extra])
        assert res.exit_code == 0, res.stderr
        doc = json.loads(res.stdout)
        doc.pop("created")
        docs.append(doc)
    assert docs[0] == docs[1]
    assert len(docs[0]["fits"]) == 45


def test_error_in_a_worker_chunk_is_the_local_error(cluster: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = screen_frame(20)
    frame.loc[1000, "conc_r"] = -1.0  # block 15, fourth chunk
    src = tmp_path / "bad.csv"
    frame.to_csv(src, index=False)
    outs = []
    for extra in ([], ["--dask", cluster]):
        res = cli(["synergy", "score", src, "--chunk-blocks", 4, "--out", tmp_path / "o.parquet",
                   *extra])  # fmt: skip
        assert res.exit_code == 2
        outs.append(res.stderr)
    assert outs[0] == outs[1]
    assert "line 1002" in outs[0]
    assert "negative concentration" in outs[0]
    assert not list(tmp_path.glob("o*"))


def _slow_echo(x: int) -> int:
    time.sleep(0.05 * (5 - x % 5))  # early chunks finish last
    return x * x


def test_map_ordered_keeps_the_chunks_order(cluster: str) -> None:
    notes: list[str] = []
    echo = lambda x: _slow_echo(x)  # noqa: E731 - a lambda is shipped by value (tests are not installed)
    got = list(map_ordered(echo, range(17), dask=cluster, window=6, on_connect=notes.append))
    assert got == [x * x for x in range(17)]
    assert notes == [f"Dask {cluster}: 2 workers, 2 threads"]


def test_ngs_windows_on_dask_equal_local(cluster: str, tmp_path: Path) -> None:
    import pysam

    from kinresist.ngs.pileup import count_molecules_many
    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    ref = "".join(np.random.default_rng(3).choice(list("ACGT"), size=900))
    fa = tmp_path / "ref.fa"
    fa.write_text(f">chrS\n{ref}\n")
    pysam.faidx(str(fa))
    bed = tmp_path / "panel.bed"
    bed.write_text("chrS\t100\t300\tA\nchrS\t500\t700\tB\n")
    bams = []
    for k in range(2):
        bam = tmp_path / f"s{k}.bam"
        alt = "T" if ref[200] != "T" else "A"
        spec = SyntheticSpec("chrS", ref, 1500, read_length=100, family_size=4, variant_pos=200,
                             variant_alt=alt, variant_fraction=0.05, error_rate=0.003)  # fmt: skip
        write_synthetic_bam(bam, spec, rng=np.random.default_rng(10 + k))
        bams.append(bam)
    local = count_molecules_many(bams, regions=bed, reference=fa)
    before = _executed(cluster)
    remote = count_molecules_many(bams, regions=bed, reference=fa, dask=cluster)
    assert _executed(cluster) - before >= 4  # 2 BAMs x 2 windows
    for a, b in zip(local, remote, strict=True):
        for name in ("pos", "counts", "fwd", "rev", "famsize", "raw", "family_sizes"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert a.indels.equals(b.indels)
        assert a.counts.sum() > 0


def test_scheduler_without_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with dask_cluster(tmp_path / "lonely", n_workers=0) as address:
        with pytest.raises(InputError, match="has no workers") as info:
            with DaskCluster(address, timeout=2):
                pass
        assert f"dask worker {address}" in str(info.value)


def test_partial_functions_and_options_reach_the_workers(cluster: str) -> None:
    got = list(map_ordered(partial(np.round, decimals=1), [1.25, 2.5, 3.75], dask=cluster))
    assert got == [1.2, 2.5, 3.8]
