"""Issue 10: every workflow's JSON carries the same envelope, and ``--format parquet`` works.

Each registered workflow runs once through the CLI on the fuzz suite's small valid seeds
(tests/fuzz/fuzz_seeds.py): ``-f json`` must carry the envelope (workflow, schema_version,
kinresist_version, kb_version, created, inputs as ``sha256:...``, parameters, warnings,
measurements) and ``--format parquet --out X.parquet`` must write Parquet files whose
``kinresist`` metadata names the workflow. A workflow not run here is listed in
:data:`NOT_RUN` with the reason, so a new workflow cannot slip through unnoticed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))

import fuzz_harness as fh

from envelope import ENVELOPE
from kinresist.core import workflows

#: Registered workflows this test does not run, and why.
NOT_RUN = {
    "ngs.align": "needs FASTQs and bwa; tests/ngs/test_ngs_align.py",
}

#: Workflows that read or write the store themselves: each run gets a fresh store holding what
#: it reads (the seed study for the timeline, a line's history for ``lineage show``).
STORE_WORKFLOWS = {
    "study.import": (),
    "timeline": ("study.import",),
    "lineage.add": (),
    "lineage.show": ("lineage.add",),
}


def _strip_format(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for tok in argv:
        if skip:
            skip = False
        elif tok in ("-f", "--format"):
            skip = True
        else:
            out.append(tok)
    return out


def _commands(s: dict[str, dict[str, Path]], tmp: Path) -> dict[str, list[str]]:
    """workflow name -> CLI argv without --format (one per workflow)."""
    out: dict[str, list[str]] = {}
    for t in fh.TARGETS:
        if not t.fmt_json:
            continue
        argv = _strip_format(t.argv(s[t.role.split("/")[0]], None))
        name = argv[0] if argv[0] in workflows() else f"{argv[0]}.{argv[1]}"
        out.setdefault(name, argv)
    dose, syn, ngs = s["dose"], s["synergy"], s["ngs"]
    cols = ["--dose-col", "dose", "--response-col", "response", "--group-col", "group"]
    panel = ["--regions", str(ngs["bed"]), "--reference", str(ngs["fa"])]
    out["dose.select"] = ["dose", "select", "-i", str(dose["table"]), *cols]
    out["synergy.sensitivity"] = ["synergy", "sensitivity", str(syn["block"])]
    out["synergy.ci"] = ["synergy", "ci", str(syn["block"])]
    out["invivo.table"] = ["invivo", "table", str(s["invivo"]["table"])]
    out["blot.simulate"] = ["blot", "simulate", "--write-to", str(tmp / "sim"), "--blots", "2"]
    out["ngs.count"] = ["ngs", "count", str(ngs["tumour"]), *panel]
    out["ngs.pon"] = ["ngs", "pon", str(ngs["normal1"]), str(ngs["normal2"]), *panel]
    out["study.import"] = ["study", "import", str(s["study"]["manifest"]), "--study", "S"]
    out["timeline"] = ["timeline", "P1", "--study", "S"]
    out["lineage.add"] = ["lineage", "add", "--line", "H3122-CR", "--parent", "H3122"]
    out["lineage.add"] += ["--drug", "crizotinib", "--dose", "0.5uM", "--date", "2025-01-10"]
    out["lineage.show"] = ["lineage", "show", "H3122-CR"]
    return out


def _with_store(cli, commands: dict[str, list[str]], name: str, db: Path) -> list[str]:
    """``name``'s argv on the fresh store ``db``, after the runs that fill it with what it reads
    (store workflows only; others as they are)."""
    if name not in STORE_WORKFLOWS:
        return commands[name]
    for before in STORE_WORKFLOWS[name]:
        r = cli([*commands[before], "--db", db, "--format", "json"])
        assert r.exit_code == 0, r.stderr
    return [*commands[name], "--db", str(db)]


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("formats")
    return _commands(fh.build_seeds(root / "seeds"), root)


def test_every_workflow_is_run_or_listed(commands: dict[str, list[str]]) -> None:
    registered = set(workflows())
    assert set(NOT_RUN) <= registered  # the exemptions name real workflows
    assert set(commands) <= registered
    assert sorted(registered - set(commands) - set(NOT_RUN)) == []


@pytest.mark.parametrize("name", sorted(set(workflows()) - set(NOT_RUN)))
def test_json_envelope_and_parquet(
    cli, commands: dict[str, list[str]], tmp_path: Path, name: str
) -> None:
    argv = _with_store(cli, commands, name, tmp_path / "json.sqlite")
    r = cli([*argv, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert ENVELOPE <= set(doc), sorted(ENVELOPE - set(doc))
    assert doc["workflow"] == name
    assert doc["schema_version"]
    assert doc["kb_version"]
    assert isinstance(doc["parameters"], dict)
    assert all(str(v).startswith("sha256:") for v in doc["inputs"].values())

    out = tmp_path / "out.parquet"
    argv = _with_store(cli, commands, name, tmp_path / "parquet.sqlite")
    r = cli([*argv, "--format", "parquet", "--out", out])
    assert r.exit_code == 0, r.stderr
    written = sorted(tmp_path.glob("out*.parquet"))
    assert out in written
    for path in written:
        meta = json.loads(pq.read_schema(path).metadata[b"kinresist"])
        assert meta["workflow"] == name, path.name


def test_timeline_parquet_is_the_tidy_series(
    cli, commands: dict[str, list[str]], tmp_path: Path
) -> None:
    """``kinresist timeline P1 --format parquet``: the primary file is the ``series`` table (one
    row per alteration x draw x assay, as ``--format tsv``), with the envelope in the schema
    metadata; ``alerts`` and ``draws`` are written beside it."""
    argv = _with_store(cli, commands, "timeline", tmp_path / "store.sqlite")
    doc = json.loads(cli([*argv, "--format", "json"]).stdout)
    out = tmp_path / "P1.parquet"
    r = cli([*argv, "--format", "parquet", "--out", out])
    assert r.exit_code == 0, r.stderr
    series = pq.read_table(out)
    meta = json.loads(series.schema.metadata[b"kinresist"])
    assert meta["table"] == "series"
    assert meta["workflow"] == "timeline"
    assert meta["parameters"]["subject"] == "P1"
    assert meta["inputs"]["store"].startswith("sha256:")
    frame = series.to_pandas()
    expected = [(a["alteration"], s["sample"]) for a in doc["alterations"] for s in a["series"]]
    assert sorted(zip(frame["alteration"], frame["sample"], strict=True)) == sorted(expected)
    assert set(frame["alteration"]) == {"ALK G1202R", "ALK EML4-ALK v3"}
    assert {"value", "lod", "unit", "assay", "detected", "collected"} <= set(frame.columns)
    for table in ("alerts", "draws"):
        side = pq.read_schema(tmp_path / f"P1.{table}.parquet")
        assert json.loads(side.metadata[b"kinresist"])["table"] == table
    assert len(pq.read_table(tmp_path / "P1.draws.parquet")) == len(doc["draws"]) == 2
