"""CIViC import: both schemas, exact counts, parsing, dedupe, idempotency, bad files.

Oracle: spec section 11 (523 rows in the 2018 extract: EGFR 208, KRAS 140, ALK 122, MET 30,
ROS1 23; 146 items in the 2025 extract: 143 predictive, 2 diagnostic, 1 prognostic,
104 Sensitivity/Response, 39 Resistance, 5 'Does Not Support') and the TSV rows themselves.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from kinresist.errors import InputError
from kinresist.kb import kb_version, load_kb
from kinresist.kb.civic_import import import_civic
from kinresist.kb.civic_names import UnsupportedProfile, parse_2018, parse_profile
from kinresist.kb.civic_tsv import read_civic_evidence

F2018 = "civic_2018-05-18_nightly_ClinicalEvidenceSummaries_ALK_ROS1_EGFR_MET_KRAS_PTK2.tsv"
F2025 = "civic_2025-10_graphql_ALK_evidence_items.tsv"


def test_reads_2018_schema_counts_VERIFIED(shared) -> None:
    schema, rows = read_civic_evidence(shared("kb-sources", "civic", F2018))
    assert schema == "civic-2018-variant"
    assert len(rows) == 523
    assert collections.Counter(r.gene for r in rows) == {
        "EGFR": 208,
        "KRAS": 140,
        "ALK": 122,
        "MET": 30,
        "ROS1": 23,
    }


def test_reads_2025_schema_counts_VERIFIED(shared) -> None:
    schema, rows = read_civic_evidence(shared("kb-sources", "civic", F2025))
    assert schema == "civic-molecular-profile"
    assert len(rows) == 146
    assert min(r.eid for r in rows) == 32
    assert max(r.eid for r in rows) == 12406
    assert collections.Counter(r.evidence_type for r in rows) == {
        "Predictive": 143,
        "Diagnostic": 2,
        "Prognostic": 1,
    }
    sig = collections.Counter(r.significance for r in rows)
    assert sig["Sensitivity/Response"] == 104
    assert sig["Resistance"] == 39


def test_import_2025_accounts_for_every_row_VERIFIED(shared) -> None:
    kb = load_kb(overlays=())
    imp = import_civic(shared("kb-sources", "civic", F2025), kb=kb)
    c = imp.counts
    assert imp.name == "civic-2025-10"
    assert c["rows"] == 146
    assert c["skipped_not_predictive"] == 3
    assert c["skipped_does_not_support"] == 5
    # every row is either imported (possibly split per drug) or skipped with a reason
    imported = {e["civic_eid"] for e in imp.evidence}
    skipped = {s["civic_eid"] for s in imp.skipped}
    assert imported | skipped == {
        f"EID{r.eid}" for r in read_civic_evidence(shared("kb-sources", "civic", F2025))[1]
    }
    # curated items are not duplicated
    curated = {(e.civic_eid, e.drugs) for e in kb.evidence if e.civic_eid}
    for e in imp.evidence:
        assert (e["civic_eid"], tuple(e["drugs"])) not in curated
    same_eid = [
        s
        for s in imp.skipped
        if s["reason"] == "duplicate_of_curated" and "same EID" in s["detail"]
    ]
    assert len(same_eid) == len({(e.civic_eid, e.drugs) for e in kb.evidence if e.civic_eid})
    # 'Does Not Support' is never turned into the opposite effect
    dns = {s["civic_eid"] for s in imp.skipped if s["reason"] == "does_not_support"}
    assert "EID1197" in dns
    assert not dns & imported


def test_import_2025_specific_items_VERIFIED(shared) -> None:
    kb = load_kb(overlays=())
    imp = import_civic(shared("kb-sources", "civic", F2025), kb=kb)
    by = {e["id"]: e for e in imp.evidence}
    # EID37: ALK F1174L, alectinib, level D, sensitivity (KELLY cells)
    e = by["EID37"]
    assert (e["profile"], e["drugs"], e["effect"], e["level"], e["pmid"]) == (
        "ALK:F1174L",
        ["alectinib"],
        "sensitive",
        "D",
        "21575866",
    )
    assert e["status"] == "CIVIC-IMPORT"
    # EID39: R1275Q with 'ALK Inhibitor TAE684' -> the KB drug tae684
    assert by["EID39"]["drugs"] == ["tae684"]
    assert by["EID39"]["profile"] == "ALK:R1275Q"
    new_alts = {a["id"] for a in imp.alterations}
    assert {"ALK:KANK4-ALK", "ALK:EXON 4-11 DELETION"} <= new_alts
    # compound profile from the molecular-profile name resolves onto the curated compound
    assert (
        parse_profile("EML4::ALK Fusion AND ALK L1198F AND ALK C1156Y").fusion_context == "EML4-ALK"
    )


def test_import_2018_with_variant_coordinates_VERIFIED(shared) -> None:
    kb = load_kb(overlays=())
    imp = import_civic(shared("kb-sources", "civic", F2018), kb=kb)
    assert imp.name == "civic-2018-05-18"
    assert imp.schema == "civic-2018-variant"
    c = imp.counts
    assert c["rows"] == 523
    total_skips = sum(v for k, v in c.items() if k.startswith("skipped_"))
    assert total_skips == c["skipped"]
    _, rows = read_civic_evidence(shared("kb-sources", "civic", F2018))
    assert {e["civic_eid"] for e in imp.evidence} | {s["civic_eid"] for s in imp.skipped} == {
        f"EID{r.eid}" for r in rows
    }
    alts = {a["id"]: a for a in imp.alterations}
    # EGFR G719S: new alteration with the CIViC 2018 coordinate and HGVS
    g719s = alts["EGFR:G719S"]
    assert g719s["grch37"] == ["7:55241707:G>A"]
    assert g719s["hgvs_c"] == ["c.2155G>A"]
    assert "grch38" not in g719s  # exon 18 is outside the curated EGFR frame: not lifted
    # 2018 compound name "EML4-ALK C1156Y–L1198F" resolves onto the curated compound profile
    # EID843/844 (the same compound) are curated, so they are skipped as duplicates
    dups = {s["civic_eid"] for s in imp.skipped if s["reason"] == "duplicate_of_curated"}
    assert {"EID843", "EID844"} <= dups
    new_prof = {p["id"] for p in imp.profiles}
    assert "ALK:C1156Y+ALK:L1196M" in new_prof  # 'EML4-ALK C1156Y–L1196M'
    # no item without a KB drug; no Does-Not-Support row imported
    dns = {s["civic_eid"] for s in imp.skipped if s["reason"] == "does_not_support"}
    assert c["skipped_does_not_support"] == 34
    assert not dns & {e["civic_eid"] for e in imp.evidence}


@pytest.mark.parametrize(
    ("gene", "name", "components", "context"),
    [
        ("ALK", "EML4-ALK C1156Y–L1196M", ["C1156Y", "L1196M"], "EML4-ALK"),
        ("ALK", "EML4-ALK E6;A20", ["EML4-ALK v3"], None),
        ("ALK", "ALK FUSION G1202R", ["G1202R"], "ALK fusion"),
        ("ALK", "EML4-ALK T1151INST", ["T1151insT"], "EML4-ALK"),
        ("EGFR", "Ex19 del L858R", ["EXON 19 DELETION", "L858R"], None),
        ("MET", "EXON 14 MUTATION + AMPLIFICATION", ["EXON 14 MUTATION", "AMPLIFICATION"], None),
        ("ALK", "NPM-ALK", ["NPM1-ALK"], None),
        ("ALK", "DEL4-11", ["EXON 4-11 DELETION"], None),
        ("EGFR", "V769_770insASV", ["V769_770insASV"], None),
    ],
)
def test_parse_2018_names(gene, name, components, context) -> None:
    p = parse_2018(gene, name)
    assert [c.name for c in p.components] == components
    assert p.fusion_context == context


def test_parse_unsupported_profiles() -> None:
    with pytest.raises(UnsupportedProfile, match="or_profile"):
        parse_profile("v::ALK Fusion OR v::ROS1 Fusion")
    with pytest.raises(UnsupportedProfile, match="or_profile"):
        parse_2018("KRAS", "G12/G13")
    with pytest.raises(UnsupportedProfile, match="unparsed_variant"):
        parse_2018("KRAS", "RS61764370")


def test_cli_import_is_idempotent_and_loaded(shared, cli, tmp_path: Path) -> None:
    src = shared("kb-sources", "civic", F2025)
    out = tmp_path / "overlays"
    r1 = cli(["kb", "import-civic", src, "--out", out, "--format", "json"])
    assert r1.exit_code == 0, r1.stderr
    p1 = json.loads(r1.stdout)
    assert p1["kb_version"] == "2026.12.2+civic-2025-10"
    assert p1["counts"]["rows"] == 146
    assert p1["schema_version"] == "1"
    content1 = (out / "civic-2025-10" / "content.yaml").read_text()
    r2 = cli(["kb", "import-civic", src, "--out", out, "--format", "json"])
    assert r2.exit_code == 0
    assert (out / "civic-2025-10" / "content.yaml").read_text() == content1
    assert [p.name for p in out.iterdir()] == ["civic-2025-10"]
    kb = load_kb(overlays=[out])
    assert kb.version == kb_version(overlays=[out]) == "2026.12.2+civic-2025-10"
    base = load_kb(overlays=())
    assert len(kb.evidence) == len(base.evidence) + p1["counts"]["evidence"]
    # each (EID, drugs) appears once: curated items were not duplicated
    keys = [(e.civic_eid, e.drugs) for e in kb.evidence if e.civic_eid]
    assert len(keys) == len(set(keys))
    shown = cli(["kb", "show", "ALK", "F1174L", "--overlay", out, "--format", "json"])
    eids = {e["civic_eid"] for e in json.loads(shown.stdout)["alterations"][0]["evidence"]}
    assert {"EID32", "EID33", "EID37"} <= eids


def test_two_overlays_later_wins_without_duplicates(shared, cli, tmp_path: Path) -> None:
    out = tmp_path / "ov"
    assert (
        cli(["kb", "import-civic", shared("kb-sources", "civic", F2018), "--out", out]).exit_code
        == 0
    )
    assert (
        cli(["kb", "import-civic", shared("kb-sources", "civic", F2025), "--out", out]).exit_code
        == 0
    )
    kb = load_kb(overlays=[out])
    assert kb.version == "2026.12.2+civic-2018-05-18+civic-2025-10"
    ids = [e.id for e in kb.evidence]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("a\tb\tc\n1\t2\t3\n", "not a CIViC evidence TSV"),
        ("molecular_profile\tevidence_id\n", "lacks column"),
    ],
)
def test_malformed_tsv_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text(content)
    with pytest.raises(InputError, match=message):
        read_civic_evidence(bad)


def test_truncated_tsv_names_line(shared, tmp_path: Path, cli) -> None:
    lines = shared("kb-sources", "civic", F2025).read_text().splitlines()
    lines[10] = "\t".join(lines[10].split("\t")[:5])
    bad = tmp_path / "civic_trunc.tsv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        read_civic_evidence(bad)
    assert "line 11" in str(exc.value)
    assert "fields" in str(exc.value)
    out = tmp_path / "ov"
    r = cli(["kb", "import-civic", bad, "--out", out])
    assert r.exit_code == 2
    assert r.stderr.startswith("InputError:")
    assert "line 11" in r.stderr
    assert not out.exists() or not any(out.iterdir())  # nothing written


def test_non_utf8_and_missing_file(tmp_path: Path, cli) -> None:
    bad = tmp_path / "latin1.tsv"
    bad.write_bytes(b"molecular_profile\tevidence_id\n\xe9\t1\n")
    r = cli(["kb", "import-civic", bad, "--out", tmp_path / "o"])
    assert r.exit_code == 2
    assert "UTF-8" in r.stderr
    r = cli(["kb", "import-civic", tmp_path / "missing.tsv", "--out", tmp_path / "o"])
    assert r.exit_code == 2
    assert "missing.tsv" in r.stderr


def test_import_recorded_in_store(shared, cli, tmp_path: Path) -> None:
    """--db records one analysis run (kind kb.import_civic) with the input hash and KB version."""
    pytest.importorskip("kinresist.store")
    from kinresist.store import open_store

    db = tmp_path / "store.sqlite"
    src = shared("kb-sources", "civic", F2025)
    r = cli(["kb", "import-civic", src, "--out", tmp_path / "ov", "--db", db])
    assert r.exit_code == 0, r.stderr
    with open_store(str(db)) as store:
        (run,) = store.runs(kind="kb.import_civic")
        assert run.kb_version == "2026.12.2+civic-2025-10"
        assert next(iter(run.inputs.values())).startswith("sha256:")
        assert run.outputs["body"]["counts"]["rows"] == 146
