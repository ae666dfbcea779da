"""The result contract, its serialiser and the one store writer (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from envelope import ENVELOPE
from kinresist.core import Measurement, Provenance, Result, SampleInfo, record
from kinresist.errors import InputError, StoreError
from kinresist.interpret.finding import Finding
from kinresist.store import open_store
from kinresist.store.engine import current_revision, make_engine, migrate, resolve_url


def _result(workflow: str, rows: list[Measurement], findings: tuple[Finding, ...] = ()) -> Result:
    return Result(
        workflow=workflow,
        schema_version="2.0",
        provenance=Provenance.build(inputs={"plate.csv": b"a,b\n1,2\n"}, parameters={"x": 1}),
        body={"answer": float("nan"), "n": 3},
        tables={"wells": pd.DataFrame({"well": ["A01", "B01"], "value": [1.5, float("inf")]})},
        measurements=rows,
        findings=list(findings),
    )


def test_envelope_json_tsv_parquet(tmp_path) -> None:
    res = _result("ddpcr.analyze", [Measurement("ddpcr", "ALK_G1202R", "fa", 0.5, "%")])
    payload = json.loads(res.to_json())
    assert ENVELOPE <= set(payload)
    assert payload["inputs"]["plate.csv"].startswith("sha256:")
    assert payload["answer"] is None  # NaN never reaches JSON
    tsv = res.to_tsv()
    assert tsv.startswith("## kind: ddpcr.analyze\n")
    assert "## schema_version: 2.0" in tsv
    written = res.write(tmp_path / "out.parquet")
    assert [p.name for p in written] == ["out.parquet", "out.measurements.parquet"]
    table = pq.read_table(written[0])
    meta = json.loads(table.schema.metadata[b"kinresist"])
    assert meta["workflow"] == "ddpcr.analyze"
    assert meta["table"] == "wells"
    assert table.num_rows == 2


def test_body_may_not_shadow_envelope() -> None:
    res = _result("x.y", [])
    res.body["workflow"] = "other"
    with pytest.raises(ValueError, match="collides"):
        res.to_dict()


def test_measurement_refuses_bad_calls_and_keeps_unknown_unknown() -> None:
    with pytest.raises(ValueError, match="call"):
        Measurement("ddpcr", "t", "fa", 1.0, call="positive")  # type: ignore[arg-type]
    m = Measurement("ddpcr", "t", "fa", float("nan"), call="not_detected", lod=0.1)
    assert m.value is None
    assert m.lod == 0.1


def test_one_query_per_alteration_joins_workflows(store_url: str) -> None:
    """ddPCR, NGS and interpretation of one patient plus a dose run on a G1202R line meet by key."""
    ddpcr = _result(
        "ddpcr.analyze",
        [
            Measurement(
                "ddpcr",
                "ALK_G1202R_FAM",
                "fractional_abundance",
                1.2,
                "%",
                sample="P1-d2",
                alteration="ALK G1202R",
                call="detected",
                ci_low=0.8,
                ci_high=1.7,
            ),
            Measurement(
                "ddpcr",
                "ALK_G1202R_FAM",
                "fractional_abundance",
                None,
                "%",
                sample="P1-d1",
                alteration="ALK G1202R",
                call="not_detected",
                lod=0.05,
            ),
        ],
    )
    ngs = _result(
        "ngs.call",
        [
            Measurement(
                "ngs",
                "ALK",
                "vaf",
                0.011,
                "fraction",
                sample="P1-d2",
                alteration="ALK G1202R",
                call="detected",
            )
        ],
    )
    interp = _result(
        "interpret.findings",
        [],
        (
            Finding(
                gene="ALK",
                alteration="p.Gly1202Arg",
                kind="substitution",
                sample="P1-d2",
                source="vcf:x.vcf:12",
            ),
        ),
    )
    dose = _result(
        "dose.fit",
        [
            Measurement(
                "dose_response",
                "lorlatinib",
                "ic50",
                35.0,
                "nM",
                subject="H3122-LR",
                sample="H3122-LR p12",
                alteration="ALK G1202R",
            )
        ],
    )
    with open_store(store_url) as store:
        record(ddpcr, store, study="S", subject="P1", info=SampleInfo(sample_type="plasma"))
        record(ngs, store, study="S", subject="P1", info=SampleInfo(sample_type="plasma"))
        record(interp, store, study="S", subject="P1")
        record(
            dose,
            store,
            study="S",
            subject_kind="cell_line",
            info=SampleInfo(sample_type="cell_line"),
        )
        rows = store.by_alteration("ALK p.Gly1202Arg")
        assert {r["workflow"] for r in rows} == {
            "ddpcr.analyze",
            "ngs.call",
            "interpret.findings",
            "dose.fit",
        }
        assert {r["subject"] for r in rows} == {"P1", "H3122-LR"}
        undetected = [r for r in rows if r["call"] == "not_detected"]
        assert len(undetected) == 1
        assert undetected[0]["value"] is None
        assert undetected[0]["lod"] == 0.05
        counts = store.counts()
        assert counts["subject"] == 2
        assert counts["analysis_run"] == 4
        assert counts["finding"] == 1


def test_record_without_subject_is_refused_and_stores_nothing(store_url: str) -> None:
    res = _result("ddpcr.analyze", [Measurement("ddpcr", "t", "fa", 1.0, sample="s1")])
    with open_store(store_url) as store:
        before = store.counts()
        with pytest.raises(InputError, match="--subject"):
            record(res, store, study="S")
        assert store.counts() == before


def test_record_is_one_transaction(store_url: str) -> None:
    good = Measurement("ddpcr", "t", "fa", 1.0, sample="s1")
    bad = Measurement("ddpcr", "t", "fa", 1.0, sample="s2", subject="P2")
    res = _result("ddpcr.analyze", [good, bad])
    with open_store(store_url) as store:
        with store.transaction() as tx:
            st = tx.get_or_create_study("S")
            tx.get_or_create_subject(st, "P2", kind="cell_line")
        before = store.counts()
        with pytest.raises((InputError, StoreError)):
            record(res, store, study="S", subject="P1")  # P2 exists as a cell line
        assert store.counts() == before


_ROWS_0001 = (
    "INSERT INTO study (name, description) VALUES ('old', '')",
    "INSERT INTO subject (study_id, label, kind, attributes) "
    "SELECT id, 'P1', 'patient', '{}' FROM study WHERE name = 'old'",
    "INSERT INTO sample (subject_id, label, kind, collected, attributes) "
    "SELECT id, 'P1-a', 'plasma', '2024-01-02', '{}' FROM subject WHERE label = 'P1'",
    "INSERT INTO analysis_run (kind, package_version, parameters, inputs, outputs) "
    "VALUES ('ddpcr.analyze', '0.1', '{}', '{}', '{}')",
    "INSERT INTO measurement (sample_id, run_id, assay, target, quantity, value, unit, attributes) "
    "SELECT s.id, r.id, 'ddpcr', 'ALK G1202R', 'fractional_abundance', 1.5, '%', '{}' "
    "FROM sample s, analysis_run r WHERE s.label = 'P1-a'",
    "INSERT INTO finding (sample_id, gene, alteration, kind, source_assay, attributes) "
    "SELECT id, 'ALK', 'G1202R', 'substitution', 'ddpcr', '{}' FROM sample WHERE label = 'P1-a'",
    "INSERT INTO therapy_line (subject_id, line_number, drug, note) "
    "SELECT id, 1, 'alectinib', '' FROM subject WHERE label = 'P1'",
)


#: More 0001 measurements as its writers stored them, (assay, target, quantity, value), with the
#: alteration key expected after migrating: ddPCR stored "gene alteration" or the assay's own name,
#: NGS a site for a not-detected hotspot and "<gene> copy number" for a log2 ratio, dose the drug.
_MEASUREMENTS_0001 = {
    ("ddpcr", "ALK_G1202R_FAM", "fractional_abundance", 0.4): "ALK G1202R",
    ("ngs", "chr2:29220747", "allele_fraction", 0.0): None,
    ("ngs", "MET copy number", "log2_ratio", 1.9): None,
    ("dose_response", "lorlatinib", "ic50", 12.0): None,
}
#: More 0001 findings, (gene, alteration) -> the key expected; text that names nothing stays NULL
#: ("del" is never guessed to be a deletion).
_FINDINGS_0001 = {
    ("MET", "AMPLIFICATION"): "MET amplification",
    ("ALK", "resistance mutation"): None,
    ("EGFR", "del"): None,
}


def _more_rows_0001() -> list[str]:
    rows = [
        "INSERT INTO measurement (sample_id, run_id, assay, target, quantity, value, unit, "
        f"attributes) SELECT s.id, r.id, '{assay}', '{target}', '{quantity}', {value}, '', '{{}}' "
        "FROM sample s, analysis_run r WHERE s.label = 'P1-a'"
        for assay, target, quantity, value in _MEASUREMENTS_0001
    ]
    rows += [
        "INSERT INTO finding (sample_id, gene, alteration, kind, source_assay, attributes) "
        f"SELECT id, '{gene}', '{alteration}', 'substitution', 'ngs', '{{}}' FROM sample "
        "WHERE label = 'P1-a'"
        for gene, alteration in _FINDINGS_0001
    ]
    return rows


def test_store_0001_migrates_and_keeps_every_row(store_url: str) -> None:
    """A 0001 store (written with the 0001 migration, rows as the 0001 release wrote them:
    ids from the database) opens, migrates to the head and keeps every row (0002: SQLite tables
    rebuilt in batch mode, PostgreSQL altered in place); 0003 gives the old measurements and
    findings their alteration keys from the stored text with the one normaliser, so
    ``by_alteration`` finds them, and leaves a text that names nothing NULL."""
    engine = make_engine(resolve_url(store_url))
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as c:
        for statement in (*_ROWS_0001, *_more_rows_0001()):
            c.execute(text(statement))
    engine.dispose()
    with open_store(store_url) as store:
        assert store.revision() == "0003"
        counts = store.counts()
        for table in ("study", "subject", "sample", "analysis_run", "therapy_line"):
            assert counts[table] == 1, table
        assert counts["measurement"] == 5
        assert counts["finding"] == 4
        [m] = store.measurements(target="ALK G1202R")
        assert m.value == 1.5
        assert m.sample.label == "P1-a"
        assert m.sample.collected == dt.date(2024, 1, 2)
        assert {r.target: r.alteration_key for r in store.measurements()} == {
            "ALK G1202R": "ALK G1202R",
            **{target: key for (_, target, _, _), key in _MEASUREMENTS_0001.items()},
        }
        assert {(f.gene, f.alteration): f.alteration_key for f in store.findings()} == {
            ("ALK", "G1202R"): "ALK G1202R",
            **_FINDINGS_0001,
        }
        g1202r = store.by_alteration("ALK G1202R")
        assert sorted((r["record"], r["assay"], r["value"]) for r in g1202r) == [
            ("finding", "ddpcr", None),
            ("measurement", "ddpcr", 0.4),
            ("measurement", "ddpcr", 1.5),
        ]
        assert {(r["study"], r["subject"], r["sample"]) for r in g1202r} == {("old", "P1", "P1-a")}
        [amp] = store.by_alteration("MET amplification")
        assert amp["record"] == "finding"
        assert store.by_alteration("EGFR deletion") == []
        with store.transaction() as tx:  # the new kinds are allowed after the migration
            st = tx.get_or_create_study("old")
            tx.get_or_create_subject(st, "pool", kind="pooled")
        assert store.counts()["subject"] == 2
