"""Readers: every real export layout in ../shared/ddpcr-data plus the import pitfalls of spec §2.3
(decimal commas, CR / CRLF, BOM, Latin-1 names, preambles, trailing commas, underscores in plate
names, zips) and clear errors for malformed files."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from kinresist.ddpcr.read_amplitude import load_plate, read_amplitude_csv, split_amplitude_name
from kinresist.ddpcr.read_results import read_results_csv
from kinresist.errors import InputError

AMP = "Ch1 Amplitude,Ch2 Amplitude,Cluster\r\n1000.5,2000.25,1\r\n9000,2100,2\r\n"


def test_split_name_underscores():
    assert split_amplitude_name("my_plate_2024_01_A01_B03_Amplitude.csv") == (
        "my_plate_2024_01_A01",
        "B03",
    )
    assert split_amplitude_name("Big test 6.12.12_D10_Amplitude.csv") == ("Big test 6.12.12", "D10")
    with pytest.raises(InputError, match="cannot find the well"):
        split_amplitude_name("results.csv")


def test_qx100_simplex_trailing_comma(shared):
    """definetherain: 'Assay1 Amplitude,Assay2 Amplitude' with empty 2nd column, CRLF, trailing comma."""
    plate = load_plate(shared("ddpcr-data", "definetherain", "data", "Albumin"))
    assert len(plate.wells) == 28
    assert plate.simplex
    assert plate.name == "Big test 6.12.12"


def test_cr_only_no_cluster(shared):
    """ddPCRclust: CR-only line endings, no Cluster column."""
    f = shared("ddpcr-data", "ddPCRclust", "inst", "extdata", "ddPCR_FFPE_Blood_G01_Amplitude.csv")
    w = read_amplitude_csv(f)
    assert w.cluster is None
    assert w.n > 1000
    assert w.ch1[0] == pytest.approx(1776.49841)


def test_newer_export_with_preamble(shared):
    """QX Manager / newer QS: 4 preamble lines, 'Ch1Amplitude,Ch2Amplitude,1,2,' target columns."""
    w = read_amplitude_csv(
        shared(
            "ddpcr-data",
            "daattali-ddpcr",
            "inst",
            "sample_data",
            "read_quant",
            "quant_A01_Amplitude.csv",
        )
    )
    assert w.ch1[0] == pytest.approx(2382.14)
    assert w.cluster[:3].tolist() == [4, 3, 2]  # (0,1) -> Ch1-Ch2+, (1,1) -> ++, (1,0) -> +-


def test_zip_plate(shared):
    plate = load_plate(shared("ddpcr-data", "cloudy-Gromgorgel", "example.zip"))
    assert plate.wells == ("A01", "A02", "A03", "A04")
    assert plate.cluster is not None


def test_read_complex_prefixes(shared):
    """daattali read_complex: differing file-name prefixes on one plate; expected_data.csv values."""
    plate = load_plate(
        shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "read_complex")
    )
    assert plate.wells == ("A01", "B02", "C03")
    s = plate.well_slice("A01")
    assert plate.ch1[s].tolist() == [1000, 1100, 3000]
    assert plate.ch2[s].tolist() == [2000, 2100, 5000]


def test_decimal_comma_bom_latin1(tmp_path):
    data = "\ufeffCh1 Amplitude;Ch2 Amplitude;Cluster\r\n1000,5;2000,25;1\r\n9000,0;2100,0;2\r\n".encode()
    f = tmp_path / "Plaque é_A01_Amplitude.csv"
    f.write_bytes(data)
    w = read_amplitude_csv(f)
    assert w.ch1.tolist() == [1000.5, 9000.0]
    res = tmp_path / "res.csv"
    res.write_bytes(
        "Well;Sample;TargetType;Target;Concentration;Positives;Negatives;AcceptedDroplets\r\n"
        "A01;Patient \xe9;Ch1Unknown;ALK G1202R;12,5;200;14800;15000\r\n".encode("latin-1")
    )
    t = read_results_csv(res)
    assert t.frame["conc"].iloc[0] == 12.5
    assert t.frame["sample"].iloc[0] == "Patient é"


def test_results_layouts(shared):
    """Old 44-column (TypeAssay/Assay) and v1.7.4 63-column layouts with trailing commas."""
    old = read_results_csv(
        shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "read_simple", "test.csv")
    )
    new = read_results_csv(
        shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "read_v174", "test.csv")
    )
    assert old.layout == "qs_legacy"
    assert new.layout == "qs17"
    assert old.frame["target"].tolist()[:2] == ["t1.fw", "t2.fw"]
    assert new.frame["channel"].tolist()[:3] == [1, 1, 2]


def test_r_mangled_count_names(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "Well,Positives,AcceptedDroplets,Ch1.Ch2.,Ch1.Ch2..1,Ch1.Ch2..2,Ch1.Ch2..3\nA01,10,100,4,6,20,70\n"
    )
    fr = read_results_csv(f).frame
    assert fr[["pp", "pn", "np", "nn"]].iloc[0].tolist() == [4, 6, 20, 70]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("Ch1 Amplitude,Ch2 Amplitude,Cluster\n1000,2000,1\nabc,2000,1\n", "line 3"),
        ("Ch1 Amplitude,Ch2 Amplitude,Cluster\n1000,2000,7\n", "cluster code"),
        ("Foo,Bar\n1,2\n", "no amplitude header"),
        ("", "empty"),
    ],
)
def test_malformed_amplitude(tmp_path, content, match):
    f = tmp_path / "bad_A01_Amplitude.csv"
    f.write_text(content)
    with pytest.raises(InputError, match=match):
        read_amplitude_csv(f)


def test_malformed_results(tmp_path):
    f = tmp_path / "res.csv"
    f.write_text("Well,Positives,AcceptedDroplets\nA01,12x,100\n")
    with pytest.raises(InputError, match=r"line 2.*not a number"):
        read_results_csv(f)
    f.write_text("Well,Positives,AcceptedDroplets\nZ99,1,100\n")
    with pytest.raises(InputError, match="not a well name"):
        read_results_csv(f)


def test_duplicate_wells_refused(tmp_path):
    for name in ("p1_A01_Amplitude.csv", "p2_A01_Amplitude.csv"):
        (tmp_path / name).write_text(AMP)
    with pytest.raises(InputError, match="appears twice"):
        load_plate(tmp_path)


def test_zip_of_written_files(tmp_path):
    z = tmp_path / "plate.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("x/run_1_B02_Amplitude.csv", AMP)
    plate = load_plate(z)
    assert plate.wells == ("B02",)
    assert np.allclose(plate.ch1, [1000.5, 9000])
