"""Readers, CLI contract and side outputs of ``kinresist synergy``.

Numerical references live in test_synergy_synergyfinder.py; here: input formats give
the same blocks, bad input exits 2 with one line naming file/line, outputs are written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinresist.errors import InputError
from kinresist.synergy import read_blocks, read_long_table, read_matrix, score_blocks

DATA = ("reference_data", "dose_response", "synergyfinder_mathews_screening_data.csv")


def _block1_frame(shared) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    df = pd.read_csv(shared(*DATA))
    return df[df.block_id == 1]


def test_matrix_and_long_table_agree(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    df = _block1_frame(shared)
    mat = df.pivot(index="conc_r", columns="conc_c", values="response")
    path = tmp_path / "m.csv"
    with path.open("w") as fh:
        fh.write("ispinesib/ibrutinib," + ",".join(f"{c:g}" for c in mat.columns) + "\n")
        for r, row in mat.iterrows():
            fh.write(f"{r:g}," + ",".join(repr(float(v)) for v in row) + "\n")
    m = read_matrix(path)
    lt = read_long_table(shared(*DATA))[0]
    assert (m.drug1, m.drug2) == ("ispinesib", "ibrutinib")
    np.testing.assert_allclose(m.inhibition, lt.inhibition, atol=1e-12)
    assert read_blocks(path)[0].drug2 == "ibrutinib"
    a = score_blocks([m], methods=["bliss"])[0].summary["bliss"]["mean"]
    assert a == pytest.approx(10.85647, abs=1e-5)


def test_replicates_are_averaged_and_kept(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    df = _block1_frame(shared)
    up, down = df.copy(), df.copy()
    up["response"] += 2.0
    down["response"] -= 2.0
    path = tmp_path / "rep.csv"
    pd.concat([up, down]).to_csv(path, index=False)
    blk = read_long_table(path)[0]
    ref = read_long_table(shared(*DATA))[0]
    np.testing.assert_allclose(blk.inhibition, ref.inhibition, atol=1e-9)
    assert blk.replicates is not None
    assert blk.replicates.shape == (6, 6, 2)


def test_inhibition_input(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    df = _block1_frame(shared).assign(response=lambda d: 100 - d.response)
    path = tmp_path / "inh.tsv"
    df.to_csv(path, sep="\t", index=False)
    blk = read_long_table(path, response="inhibition")[0]
    np.testing.assert_allclose(blk.inhibition, read_long_table(shared(*DATA))[0].inhibition)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("a,b\n1,2\n", "missing column"),
        ("drug1,drug2,conc1,conc2,response\nA,B,0,0,100\nA,B,x,1,50\n", "line 3"),
        ("drug1,drug2,conc1,conc2,response\nA,B,0,0,100\nA,B,1,0,80\nA,B,0,1,70\n", "no response"),
        (
            "drug1,drug2,conc1,conc2,response\nA,B,1,1,100\nA,B,2,1,80\nA,B,1,2,70\nA,B,2,2,60\n",
            "dose-0",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, tmp_path: Path, content: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text(content)
    res = cli(["synergy", "score", path, "--format", "json"])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("InputError:")
    assert needle in lines[0]
    assert "bad.csv" in lines[0]
    assert res.stdout == ""


def test_missing_file_exits_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = cli(["synergy", "score", tmp_path / "nope.csv"])
    assert res.exit_code == 2
    assert "nope.csv" in res.stderr


def test_unknown_method_rejected() -> None:
    with pytest.raises(InputError, match="unknown synergy method"):
        score_blocks([], methods=["musyc"])


def test_outputs_csv_report_tsv_and_store(shared, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "store.db"
    csv = tmp_path / "cells.csv"
    html = tmp_path / "report.html"
    res = cli(
        [
            "synergy",
            "score",
            shared(*DATA),
            "--mode",
            "synergyfinder",
            "--db",
            db,
            "--subject",
            "H3122",
            "--csv",
            csv,
            "--report",
            html,
            "--format",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    table = pd.read_csv(csv)
    assert len(table) == 72
    assert {"zip", "bliss", "hsa", "loewe"} <= set(table.columns)
    text = html.read_text()
    assert "<svg" in text
    assert "plotly" in text
    assert "Block 1" in text
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        assert store.counts()["analysis_run"] == 1
    assert doc["blocks"][0]["scores"]["zip"] == pytest.approx(19.570812, rel=1e-3)
    tsv = cli(["synergy", "score", shared(*DATA), "--methods", "bliss,hsa", "--format", "tsv"])
    assert tsv.exit_code == 0
    assert tsv.stdout.startswith("## kind: synergy.score")


def test_sensitivity_and_ci_commands(shared, cli) -> None:  # type: ignore[no-untyped-def]
    res = cli(["synergy", "sensitivity", shared(*DATA), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    blk = json.loads(res.stdout)["blocks"][0]
    assert blk["css"] == pytest.approx(84.3455, abs=0.005)
    res = cli(["synergy", "ci", shared(*DATA), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    assert len(json.loads(res.stdout)["blocks"][0]["cells"]) == 25
