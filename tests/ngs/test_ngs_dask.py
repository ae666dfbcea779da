"""``kinresist ngs call --dask``: the windows of the sample and of its normals run on a real
Dask cluster (a ``dask scheduler`` and two ``dask worker`` processes on loopback, tests/
daskcluster.py) and the results equal the local run exactly: the same calls table, byte for
byte (but the header's creation time), and the same JSON apart from the creation time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysam
import pytest

from daskcluster import dask_cluster
from kinresist.ngs.pileup import count_molecules_many
from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

pytestmark = pytest.mark.slow


def _panel(tmp: Path) -> tuple[Path, Path, Path, list[Path]]:
    """Three 200-bp amplicons on one contig; a sample with a 2 % variant and two normals."""
    rng = np.random.default_rng(19)
    gap, width = 300, 200
    seq = "".join(rng.choice(list("ACGT"), size=3 * (width + gap) + gap))
    fa = tmp / "ref.fa"
    fa.write_text(f">chrP\n{seq}\n")
    pysam.faidx(str(fa))
    starts = [gap + i * (width + gap) for i in range(3)]
    bed = tmp / "panel.bed"
    bed.write_text("".join(f"chrP\t{s}\t{s + width}\tAMP{i}\n" for i, s in enumerate(starts)))
    bams = []
    for name, fraction in (("sample", 0.02), ("normal1", 0.0), ("normal2", 0.0)):
        parts = []
        for i, s in enumerate(starts):
            part = tmp / f"{name}_{i}.bam"
            spec = SyntheticSpec("chrP", seq, 700, read_length=100, family_size=4.0,
                                 start_range=(s - 99, s + width - 1), variant_pos=s + 50,
                                 variant_fraction=fraction)  # fmt: skip
            write_synthetic_bam(part, spec, rng=rng)
            parts.append(str(part))
        merged = tmp / f"{name}.bam"
        pysam.merge("-f", str(merged), *parts)
        pysam.index(str(merged))
        bams.append(merged)
    return bams[0], bed, fa, bams[1:]


def test_ngs_call_on_two_dask_workers_equals_local(cli: Callable, tmp_path: Path) -> None:
    sample, bed, fa, normals = _panel(tmp_path)
    base = ["ngs", "call", sample, "--regions", bed, "--reference", fa, "--normals", *normals,
            "--format", "json"]  # fmt: skip
    local = cli([*base, "--out", tmp_path / "local.json", "--tsv", tmp_path / "local.tsv"])
    assert local.exit_code == 0, local.stderr
    with dask_cluster(tmp_path / "cluster", n_workers=2) as address:
        dist = cli([*base, "--out", tmp_path / "dask.json", "--tsv", tmp_path / "dask.tsv",
                    "--dask", address])  # fmt: skip
        assert dist.exit_code == 0, dist.stderr
        # the library stream too: every window of the three BAMs, in order
        here = count_molecules_many([sample, *normals], regions=bed, reference=fa)
        there = count_molecules_many([sample, *normals], regions=bed, reference=fa, dask=address)

    def table(name: str) -> list[bytes]:  # all but the header's creation time
        lines = (tmp_path / name).read_bytes().splitlines()
        return [ln for ln in lines if not ln.startswith(b"## created:")]

    assert table("dask.tsv") == table("local.tsv")
    a = json.loads((tmp_path / "local.json").read_text())
    b = json.loads((tmp_path / "dask.json").read_text())
    a.pop("created")
    b.pop("created")
    assert a == b
    assert any(c["filter"] == "PASS" for c in a["calls"])  # the comparison is not vacuous
    for x, y in zip(here, there, strict=True):
        for name in ("pos", "counts", "fwd", "rev", "duplex", "famsize", "raw", "family_sizes"):
            assert np.array_equal(getattr(x, name), getattr(y, name)), name
        assert x.indels.equals(y.indels)
        assert x.n_reads == y.n_reads


def test_unreachable_scheduler_is_an_input_error(cli: Callable, tmp_path: Path) -> None:
    sample, bed, fa, _normals = _panel(tmp_path)
    res = cli(["ngs", "call", sample, "--regions", bed, "--reference", fa,
               "--dask", "tcp://127.0.0.1:9"])  # fmt: skip
    assert res.exit_code == 2
    assert "cannot reach the Dask scheduler" in res.stderr
