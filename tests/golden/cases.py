"""The golden cases: one small, deterministic run per workflow, its JSON frozen in
``tests/golden/data/<case>.json``.

Inputs are generated here with fixed seeds or read from ../shared (never copied). Regenerate
deliberately, and say why in the commit::

    python tests/golden/regenerate.py            # all cases
    python tests/golden/regenerate.py dose_plate # one case

Tolerance policy (see README.md beside this file): identifiers, strings, booleans, integers,
calls and flags must match exactly; floats to rtol 1e-6 (atol 1e-9); volatile envelope fields
(``created``, ``kinresist_version``), input digests and temporary folders are not compared.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KINRESIST_SHARED", REPO.parent / "shared"))
DATA = Path(__file__).resolve().parent / "data"

#: Envelope keys that change between runs or machines and are not compared.
VOLATILE = frozenset({"created", "kinresist_version"})
RTOL = 1e-6
ATOL = 1e-9


def _cli(args: list[Any]) -> dict[str, Any]:
    """Run ``kinresist ARGS --format json`` in-process (the path users run); return the JSON."""
    import contextlib
    import io
    import json

    from kinresist.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in [*args, "--format", "json"]])
    if code != 0:
        msg = f"kinresist {' '.join(map(str, args))} exited {code}: {err.getvalue()}"
        raise AssertionError(msg)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def _dose_plate(tmp: Path) -> dict[str, Any]:
    import numpy as np

    from kinresist.dose.examples import write_example_plate

    plate, pmap = write_example_plate(tmp, rng=np.random.default_rng(7))
    return _cli(
        ["dose", "plate", "--plate", plate, "--map", pmap, "--genotype", "H3122-LR=ALK G1202R"]
    )


def _synergy_block1(tmp: Path) -> dict[str, Any]:
    import pandas as pd

    src = SHARED / "reference_data" / "dose_response" / "synergyfinder_mathews_screening_data.csv"
    frame = pd.read_csv(src)
    first = frame[frame["block_id"] == frame["block_id"].iloc[0]]
    path = tmp / "block1.csv"
    first.to_csv(path, index=False)
    return _cli(["synergy", "score", path, "--mode", "synergyfinder"])


def _interpret(tmp: Path) -> dict[str, Any]:
    return _cli(
        ["interpret", "--finding", "ALK G1202R", "--finding", "EML4-ALK v3",
         "--prior-therapy", "alectinib", "--sample", "P1-plasma"]
    )  # fmt: skip


def _ddpcr(tmp: Path) -> dict[str, Any]:
    import numpy as np

    from kinresist.ddpcr.simulate import simulate_plate, write_plate

    plate = simulate_plate(
        rng=np.random.default_rng(7),
        n_wells=8,
        droplets=15000,
        mutant_fractions=np.array([0, 0, 0.02, 0.01, 0.01, 0.01, 0.05, 0.05]),
    )
    folder = tmp / "plate"
    write_plate(plate, folder)
    res = tmp / "res.csv"
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for i, w in enumerate(plate.wells):
        lines.append(f"{w},P{i // 2 + 1}-plasma,Ch1Unknown,ALK_G1202R,,")
        lines.append(f"{w},P{i // 2 + 1}-plasma,Ch2Unknown,ALK_WT,,")
    res.write_text("\n".join(lines) + "\n")
    return _cli(["ddpcr", "analyze", folder, "--results", res])


def _ngs(tmp: Path) -> dict[str, Any]:
    import numpy as np
    import pysam

    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    fa = SHARED / "ngs-data" / "anacore-sardine-inca-amplicons-hg19" / "inca_hg19_regions.fa"
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    vp = 29443613 - 29443539
    bam = tmp / "alk.bam"
    spec = SyntheticSpec(
        contig, seq, 2500, read_length=100, family_size=5, variant_pos=vp, variant_alt="T",
        variant_fraction=0.015, start_range=(0, vp - 5), error_rate=0.002,
    )  # fmt: skip
    write_synthetic_bam(bam, spec, rng=np.random.default_rng(42))
    bed = tmp / "alk.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n")
    return _cli(["ngs", "call", bam, "--regions", bed, "--reference", fa])


def _clinical(tmp: Path) -> dict[str, Any]:
    from lifelines.datasets import load_lung

    lung = load_lung().dropna(subset=["time", "status", "sex"])
    path = tmp / "lung.csv"
    lung.assign(event=(lung["status"] == 2).astype(int))[["time", "event", "sex"]].to_csv(
        path, index=False
    )
    return _cli(
        ["clinical", "survival", path, "--time-col", "time", "--event-col", "event",
         "--group-col", "sex"]
    )  # fmt: skip


def _invivo(tmp: Path) -> dict[str, Any]:
    src = SHARED / "invivo-data" / "synergylmm_grwth_data.csv"
    return _cli(["invivo", "analyze", src, "--control", "Control", "--n-boot", "200"])


def _blot(tmp: Path) -> dict[str, Any]:
    folder = tmp / "blots"
    made = _cli(["blot", "simulate", "--write-to", folder, "--blots", "2", "--seed", "4"])
    images = [folder / Path(p).name for p in made["images"]]
    return _cli(["blot", "analyze", *images, "--design", folder / "design.csv"])


CASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "dose_plate": _dose_plate,
    "synergy_block1": _synergy_block1,
    "interpret_g1202r": _interpret,
    "ddpcr_g1202r_plate": _ddpcr,
    "ngs_alk_g1202r": _ngs,
    "clinical_lung_survival": _clinical,
    "invivo_synergylmm": _invivo,
    "blot_simulated": _blot,
}


def strip(doc: Any) -> Any:
    """The comparable part of a document (volatile envelope fields removed, paths' names only)."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if k in VOLATILE:
                continue
            if k == "inputs" and isinstance(v, dict):
                # generated inputs (BAMs embed their own paths) differ byte-wise: names only
                out[k] = sorted(Path(str(name)).name for name in v)
                continue
            out[k] = strip(v)
        return out
    if isinstance(doc, list):
        return [strip(v) for v in doc]
    if isinstance(doc, str) and doc.startswith("/") and "\n" not in doc and " " not in doc:
        return Path(
            doc
        ).name  # an absolute path (temporary, or ../shared on this machine): its name only
    return doc


def compare(got: Any, want: Any, where: str = "$") -> list[str]:
    """Differences between two documents under the tolerance policy."""
    import math

    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {type(got).__name__}"]
        diffs = [f"{where}.{k}: missing" for k in want if k not in got]
        diffs += [f"{where}.{k}: unexpected" for k in got if k not in want]
        for k in want:
            if k in got:
                diffs += compare(got[k], want[k], f"{where}.{k}")
        return diffs
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: expected a list of {len(want)}, got {got!r:.80}"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in compare(g, w, f"{where}[{i}]")
        ]
    if isinstance(want, float) and not isinstance(want, bool):
        if not isinstance(got, int | float) or isinstance(got, bool):
            return [f"{where}: expected {want}, got {got!r}"]
        if not math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL):
            return [f"{where}: {got!r} != {want!r} (rtol {RTOL})"]
        return []
    if isinstance(want, int) and isinstance(got, float) and not isinstance(want, bool):
        return (
            []
            if math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL)
            else [f"{where}: {got} != {want}"]
        )
    return [] if got == want else [f"{where}: {got!r:.80} != {want!r:.80}"]
