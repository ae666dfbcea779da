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

from kinresist.core import workflows

ENVELOPE = {
    "workflow",
    "schema_version",
    "kinresist_version",
    "kb_version",
    "created",
    "inputs",
    "parameters",
    "warnings",
    "measurements",
}

#: Registered workflows this test does not run, and why.
NOT_RUN = {
    "ngs.align": "needs FASTQs and bwa; tests/ngs/test_ngs_align.py",
    "study.import": "hand-written command without --format parquet (text/json/tsv/html)",
    "timeline": "hand-written command without --format parquet (text/json/tsv/html)",
    "lineage.add": "hand-written command without --format parquet (text/json/tsv/html)",
    "lineage.show": "hand-written command without --format parquet (text/json/tsv/html)",
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
    return out


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
    argv = commands[name]
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
    r = cli([*argv, "--format", "parquet", "--out", out])
    assert r.exit_code == 0, r.stderr
    written = sorted(tmp_path.glob("out*.parquet"))
    assert out in written
    for path in written:
        meta = json.loads(pq.read_schema(path).metadata[b"kinresist"])
        assert meta["workflow"] == name, path.name
