"""``kinresist kb show|version|validate`` (CLI contract: JSON fields, exit codes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from kinresist.kb.loader import DATA_DIR


def test_show_g1202r_json(cli) -> None:
    r = cli(["kb", "show", "ALK", "G1202R", "--no-overlays", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    p = json.loads(r.stdout)
    assert p["kind"] == "kinresist.kb.show"
    assert p["schema_version"] == "1"
    assert p["kb_version"] == "2026.12.2"
    assert p["found"] is True
    assert "research use" in p["notice"].lower()
    (alt,) = p["alterations"]
    assert alt["id"] == "ALK:G1202R"
    assert alt["hgvs_c"] == ["c.3604G>A"]
    assert alt["grch37"] == [{"chrom": "2", "pos": 29443613, "ref": "C", "alt": "T"}]
    assert alt["grch38"][0]["pos"] == 29220747
    ev = alt["evidence"]
    eids = {e["civic_eid"] for e in ev}
    assert {"EID441", "EID1345", "EID1350", "EID1351", "EID11114"} <= eids
    for e in ev:
        assert e["pmid"] or e["civic_eid"] or e["status"] == "SOURCE-DOC"
        assert e["status"] in {"VERIFIED", "SOURCE-DOC"}
        assert e["level"] in "ABCDE"
        assert e["kb_release_date"] == "2026-12-07"
    assert any(c["drug"] == "brigatinib" for c in alt["conflicts"])
    # no G1202R frequency without cohort/denominator: the former "2-29 % after crizotinib"
    # range mixed the after-crizotinib and after-alectinib figures; Lin 2018's 32 % (v3) stays
    # in the prior rule below (the abstract gives no per-variant denominator)
    assert all(f["denominator"] and f["pmid"] and f["cohort"] for f in alt["frequencies"])
    assert not any(f["high_pct"] == 29 for f in alt["frequencies"])
    assert alt["mechanisms"][0]["category"] == "on_target_mutation"
    assert alt["priors"][0]["given"] == "ALK:EML4-ALK v3"


def test_show_text_aliases_and_unknown(cli) -> None:
    r = cli(["kb", "show", "ALK", "p.Gly1202Arg", "--no-overlays"])
    assert r.exit_code == 0
    assert "EID1350" in r.stdout
    assert "c.3604G>A" in r.stdout
    r = cli(["kb", "show", "ALK", "1151Tins", "--no-overlays"])
    assert "T1151dup" in r.stdout
    assert "431.8" in r.stdout
    r = cli(["kb", "show", "ALK", "EML4-ALK", "v3", "--no-overlays", "--format", "json"])
    assert json.loads(r.stdout)["alterations"][0]["id"] == "ALK:EML4-ALK v3"
    r = cli(["kb", "show", "ALK", "X1234Y", "--no-overlays"])
    assert r.exit_code == 0
    assert "not in KB" in r.stdout
    r = cli(["kb", "show", "ALK", "X1234Y", "--no-overlays", "--format", "json"])
    assert json.loads(r.stdout)["found"] is False
    r = cli(["kb", "show", "NOTAGENE", "G12C", "--no-overlays"])
    assert r.exit_code == 2
    assert r.stderr.startswith("InputError:")


def test_show_tsv(cli) -> None:
    r = cli(["kb", "show", "ALK", "G1269A", "--no-overlays", "--format", "tsv"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("## kind: kinresist.kb.show")
    header = next(line for line in lines if not line.startswith("##")).split("\t")
    assert header[:3] == ["alteration", "matched_via", "drug"]
    assert any("EID1354" in line for line in lines)


def test_version_and_validate(cli, tmp_path: Path) -> None:
    r = cli(["kb", "version", "--no-overlays"])
    assert r.exit_code == 0
    assert r.stdout.startswith("2026.12.2 (released 2026-12-07")
    r = cli(["kb", "version", "--no-overlays", "--format", "json"])
    v = json.loads(r.stdout)
    assert v["kb_version"] == "2026.12.2"
    assert any(s["id"] == "CIVIC" for s in v["sources"])
    r = cli(["kb", "validate", "--no-overlays"])
    assert r.exit_code == 0
    assert "valid" in r.stdout
    bad = tmp_path / "kb"
    shutil.copytree(DATA_DIR, bad)
    p = bad / "evidence" / "lin2017.yaml"
    data = yaml.safe_load(p.read_text())
    data["evidence"][3]["drugs"] = ["crizotinibb"]
    p.write_text(yaml.safe_dump(data))
    r = cli(["kb", "validate", bad, "--no-overlays"])
    assert r.exit_code == 2
    assert r.stderr.startswith("KnowledgeBaseError:")
    assert "lin2017.yaml" in r.stderr
    assert "crizotinibb" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
