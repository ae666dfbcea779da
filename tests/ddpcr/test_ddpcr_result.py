"""The ddPCR result on the shared contract: column contract, measurements per sample x target
(FA % and copies/µL with CI, LoD, LoB, call, alteration key), below-LoD semantics, wild-type
rows, the assay map, and no alteration guessed from substrings."""

from __future__ import annotations

import numpy as np
import pytest

from kinresist.core import Result
from kinresist.ddpcr import DdpcrResult, analyze_plate, parse_assay_name
from kinresist.ddpcr.assays import read_assay_map, resolve_assay_map
from kinresist.ddpcr.result import CONTRACT
from kinresist.ddpcr.simulate import simulate_plate
from kinresist.errors import InputError


@pytest.fixture(scope="module")
def plate():
    """Two duplex wells: 3 % mutant and 0 % (no mutant droplet at all)."""
    return simulate_plate(
        rng=np.random.default_rng(3),
        n_wells=2,
        droplets=15000,
        mutant_fractions=np.array([0.03, 0.0]),
    )


def test_result_contract_and_measurements(plate):
    """Contract columns first; a detected well gives FA (%) and copies/µL with CI, LoD and LoB;
    the 0 % well is 'not_detected' with value None and its LoD (never 0); the wild-type channel
    gives copies/µL only, without alteration key, and never says 'detected (FA ...)'."""
    r = analyze_plate(plate, target_names={1: "EGFR_T790M_FAM", 2: "EGFR_WT_HEX"})
    assert isinstance(r, DdpcrResult)
    assert isinstance(r, Result)
    assert r.workflow == "ddpcr.analyze"
    assert tuple(r.wells.columns[: len(CONTRACT)]) == CONTRACT
    assert r.provenance.inputs["droplets"].startswith("sha256:")
    by = {(m.attributes["wells"], m.target, m.quantity): m for m in r.measurements}
    assert len(by) == len(r.measurements) == 2 + 2 + 2  # FA+copies per mutant row, copies per WT
    fa = by[("A01", "EGFR_T790M_FAM", "fractional_abundance")]
    assert (fa.alteration, fa.call, fa.unit) == ("EGFR T790M", "detected", "%")
    assert fa.value == pytest.approx(3.0, abs=0.8)
    assert fa.ci_low < fa.value < fa.ci_high
    assert 0 < fa.lob < fa.lod < fa.value
    nd = by[("B01", "EGFR_T790M_FAM", "fractional_abundance")]
    assert nd.call == "not_detected"
    assert nd.value is None
    assert nd.lod == pytest.approx(r.wells.loc[1, "lod_fa"])
    assert nd.attributes["estimate"] == 0.0
    cp = by[("B01", "EGFR_T790M_FAM", "copies_per_ul")]
    assert cp.value is None
    assert cp.lod > 0
    assert cp.unit == "copies/µL"
    wt = [m for m in r.measurements if m.target == "EGFR_WT_HEX"]
    assert {m.quantity for m in wt} == {"copies_per_ul"}
    assert {m.alteration for m in wt} == {None}
    wt_rows = r.wells[r.wells["channel"] == 2]
    assert not wt_rows["call_text"].str.contains("FA").any()
    assert wt_rows["call_text"].str.startswith("detected (").all()
    assert [(f.gene, f.alteration, f.kind, f.source) for f in r.findings] == [
        ("EGFR", "T790M", "substitution", "ddpcr")
    ]
    assert r.findings[0].vaf == pytest.approx(fa.value / 100)
    assert r.warnings == []


def test_assay_map_wins_and_unmapped_targets_warn(plate, tmp_path):
    """Unparsable assay names carry no key and a warning; an assay map (file or pairs) maps
    them to canonical keys and marks the reference channel as wild type."""
    r = analyze_plate(plate, target_names={1: "Assay-7 FAM", 2: "Assay-7 HEX"})
    assert {m.alteration for m in r.measurements} == {None}
    assert any("'Assay-7 FAM'" in w and "assay map" in w for w in r.warnings)
    assert r.findings == []
    path = tmp_path / "assays.csv"
    path.write_text("target,alteration\nAssay-7 FAM,ALK p.Gly1202Arg\nAssay-7 HEX,wild type\n")
    mapped = analyze_plate(plate, target_names={1: "Assay-7 FAM", 2: "Assay-7 HEX"}, assay_map=path)
    keys = {(m.target, m.alteration) for m in mapped.measurements}
    assert keys == {("Assay-7 FAM", "ALK G1202R"), ("Assay-7 HEX", None)}
    assert str(path) in mapped.provenance.inputs
    assert mapped.provenance.parameters["assay_map"] == read_assay_map(path)
    assert mapped.warnings == []
    assays = {a["target"]: a for a in mapped.body["assays"]}
    assert assays["Assay-7 FAM"]["mapped_by"] == "assay_map"
    assert assays["Assay-7 HEX"]["wild_type"] is True
    # the map also wins over a parsable name
    over = analyze_plate(plate, target_names={1: "ALK_G1202R", 2: "ALK_WT"},
                         assay_map={"alk_g1202r": "ALK G1202del"})  # fmt: skip
    assert {m.alteration for m in over.measurements} == {"ALK G1202del", None}


def test_assay_names_to_keys_without_guessing():
    """Probe words are dropped; HGVS spellings normalise; wild-type assays have no key; a 'del'
    in a name that is not an alteration gives no key (nothing guessed from substrings)."""
    cases = {
        "ALK_G1202R_FAM": "ALK G1202R",
        "ALK p.Gly1202Arg": "ALK G1202R",
        "EGFR_E746_A750del": "EGFR E746_A750del",
        "KRAS G12C mut": "KRAS G12C",
        "EML4-ALK v1": "ALK EML4-ALK v1",
        "ALK_WT_HEX": None,
        "Wildtype": None,
        "Mutant": None,
        "EGFR ex19del": None,
        "KRAS_del_probe": None,
    }
    for name, key in cases.items():
        a = parse_assay_name(name)
        assert a.key == key, name
        if key is None:
            assert a.kind is None, name
    assert parse_assay_name("ALK_WT_HEX").wild_type
    assert parse_assay_name("Wildtype").wild_type
    assert not parse_assay_name("Mutant").wild_type
    mapped = resolve_assay_map({"EGFR ex19del": "EGFR exon 19 deletion"})
    a = parse_assay_name("EGFR ex19del", assay_map=mapped)
    assert (a.key, a.kind, a.in_kb) == ("EGFR exon 19 deletion", "deletion", True)  # the KB's kind


def test_bad_assay_map_is_refused(tmp_path):
    with pytest.raises(InputError, match="not an alteration kinresist can name"):
        resolve_assay_map({"Assay-7": "something odd"})
    bad = tmp_path / "m.csv"
    bad.write_text("target,alteration\nA,ALK G1202R\nB,del\n")
    with pytest.raises(InputError, match="line 3"):
        read_assay_map(bad)
    nohead = tmp_path / "n.csv"
    nohead.write_text("name,value\nA,ALK G1202R\n")
    with pytest.raises(InputError, match="'target' and an 'alteration' column"):
        read_assay_map(nohead)


def test_controls_give_no_measurement(tmp_path):
    """No-template controls and --blank samples stay in the tables but are not recorded; the
    other samples are (wells merged per sample x target, read from the plate folder)."""
    from kinresist.ddpcr.calls import CallSettings
    from kinresist.ddpcr.simulate import write_plate

    plate = simulate_plate(rng=np.random.default_rng(5), n_wells=4, droplets=12000,
                           mutant_fractions=np.array([0.02, 0.0, 0.0, 0.01]))  # fmt: skip
    folder = tmp_path / "plate"
    write_plate(plate, folder)
    res = tmp_path / "res.csv"
    names = dict(zip(plate.wells, ["P1", "NTC", "WT-blank", "P2"], strict=True))
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for w, name in names.items():
        lines += [f"{w},{name},Ch1Unknown,ALK_G1202R,,", f"{w},{name},Ch2Unknown,ALK_WT,,"]
    res.write_text("\n".join(lines) + "\n")
    r = analyze_plate(folder, results=res, settings=CallSettings(blank_samples=("WT-blank",)))
    assert set(r.samples["sample"]) == {"P1", "NTC", "WT-blank", "P2"}
    assert {m.sample for m in r.measurements} == {"P1", "P2"}
    assert str(folder) in r.provenance.inputs
    assert str(res) in r.provenance.inputs
