"""Project store: schema migrations, entity graph and all-or-nothing imports,
on SQLite and (when a server is available) PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect

from kinresist.errors import InputError, StoreError
from kinresist.store import current_revision, open_store
from kinresist.store.models import Base


def test_migration_creates_every_table_and_matches_models(store_url: str) -> None:
    with open_store(store_url) as store:
        tables = set(inspect(store.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert current_revision(store.engine) == "0003"
        for name, table in Base.metadata.tables.items():
            cols = {c["name"] for c in inspect(store.engine).get_columns(name)}
            assert cols == {c.name for c in table.columns}, name
    # re-opening is idempotent
    with open_store(store_url) as store:
        assert store.counts()["study"] == 0


def test_entity_graph_round_trip(store_url: str) -> None:
    with open_store(store_url) as store:
        with store.transaction() as tx:
            study = tx.get_or_create_study("ALK resistance")
            patient = tx.get_or_create_subject(study, "P001", kind="patient")
            line = tx.add_therapy_line(
                patient,
                line_number=1,
                drug="Crizotinib",
                start_date=dt.date(2023, 1, 5),
                end_date=dt.date(2024, 2, 1),
                best_response="PR",
                progression=True,
            )
            plasma = tx.get_or_create_sample(
                patient,
                "P001-plasma-1",
                kind="plasma",
                collected=dt.date(2024, 2, 3),
                tube_type="Streck cfDNA BCT",
                processing_hours=48.0,
            )
            run = tx.add_run(
                kind="interpret",
                parameters={"genome": "GRCh38"},
                inputs={"x.vcf": "sha256:00"},
                outputs={"value": float("nan")},
                sample=plasma,
                study=study,
                kb_version="test",
            )
            tx.add_finding(
                plasma,
                gene="ALK",
                alteration="L1196M",
                kind="substitution",
                vaf=0.034,
                source_assay="ngs",
                run=run,
            )
            tx.add_measurement(
                plasma,
                assay="ddpcr",
                target="ALK L1196M",
                quantity="fractional_abundance",
                value=3.1,
                unit="%",
                ci_low=2.5,
                ci_high=3.8,
                call="detected",
                lod=0.1,
                run=run,
            )
            assert line.drug == "crizotinib"
            # get_or_create returns the same rows
            assert tx.get_or_create_study("ALK resistance").id == study.id
            assert tx.get_or_create_sample(patient, "P001-plasma-1").id == plasma.id
        counts = {k: v for k, v in store.counts().items() if v}
        assert counts == {
            "study": 1,
            "subject": 1,
            "sample": 1,
            "therapy_line": 1,
            "analysis_run": 1,
            "finding": 1,
            "measurement": 1,
        }
        (finding,) = store.findings(sample_label="P001-plasma-1")
        assert (finding.gene, finding.alteration, finding.vaf) == ("ALK", "L1196M", 0.034)
        (run,) = store.runs(kind="interpret")
        assert run.outputs == {"value": None}  # NaN is stored as null, never as a number
        assert run.package_version


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"kind": "dog"}, InputError),
        ({"vaf": 1.7}, InputError),
        ({"duplicate_line": True}, StoreError),
    ],
)
def test_failed_import_stores_nothing(store_url: str, bad: dict, error: type) -> None:
    with open_store(store_url) as store:
        with store.transaction() as tx:
            tx.get_or_create_study("existing")
        before = store.counts()
        with pytest.raises(error), store.transaction() as tx:
            study = tx.get_or_create_study("new study")
            subject = tx.get_or_create_subject(study, "P9", kind=bad.get("kind", "patient"))
            sample = tx.get_or_create_sample(subject, "S1", kind="tissue")
            tx.add_finding(
                sample,
                gene="ALK",
                alteration="G1202R",
                kind="substitution",
                vaf=0.2,
                source_assay="cli",
            )
            tx.add_therapy_line(subject, line_number=1, drug="alectinib")
            if bad.get("duplicate_line"):
                tx.add_therapy_line(subject, line_number=1, drug="lorlatinib")
            tx.add_finding(
                sample,
                gene="ALK",
                alteration="L1196M",
                kind="substitution",
                vaf=bad.get("vaf", 0.1),
                source_assay="cli",
            )
        assert store.counts() == before


def test_bad_locations_give_store_errors(tmp_path) -> None:
    with pytest.raises(StoreError, match="directory"):
        open_store(str(tmp_path))
    with pytest.raises(StoreError, match="cannot reach"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")
