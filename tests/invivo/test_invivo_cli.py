"""``kinresist invivo analyze`` / ``invivo table``: registry declaration, outputs, the store, and
bad input -> exit code 2 with the file, line and column named and nothing stored."""

from __future__ import annotations

import json

import pytest

from kinresist.errors import InputError
from kinresist.invivo import analyze_growth, read_growth


def _wide(tmp_path, text: str):
    p = tmp_path / "study.csv"
    p.write_text(text)
    return p


GOOD = (
    "Treatment,Mouse,-1,7,14,21\n"
    "Vehicle,1,100,300,900,1500\nVehicle,2,120,330,1000,1700\nVehicle,3,90,280,950,1400\n"
    "Drug,4,110,150,200,190\nDrug,5,100,140,260,300\nDrug,6,95,120,180,40\n"
)


def test_registry_declares_invivo_workflows():
    from kinresist.core.registry import get_workflow

    wf = get_workflow("invivo.analyze")
    names = {p.name for p in wf.params}
    assert {"control", "day", "combination", "endpoint"} <= names
    assert wf.subject_kind == "animal"
    assert get_workflow("invivo.table").records is False


def test_json_keys_exactly_as_the_issue_names(shared):
    r = analyze_growth(
        read_growth(shared("invivo-data", "synergylmm_grwth_data.csv")),
        control="Control",
        combination="Combination=DrugA,DrugB",
        n_boot=200,
        figures=False,
    )
    d = json.loads(r.to_json())
    arm = d["arms"]["DrugA"]
    for key in ("tgi_delta", "tgi_rtv", "tgi_auc", "tgi_endpoint", "tgi_xeva", "t_over_c"):
        assert set(arm[key]) == {"estimate", "ci_low", "ci_high"}
    assert set(d["lmm"]["slopes"]["Combination"]) == {"estimate", "se"}
    assert d["lmm"]["random_slope_variance"] > 0
    assert d["lmm"]["residual_variance"] > 0
    for model in ("bliss", "hsa", "response_additivity"):
        assert {"contrast", "se", "p"} <= set(d["synergy"][model])
    assert set(d["variants"]) >= {"tgi_delta", "tgi_rtv", "tgi_auc", "tgi_endpoint", "tgi_xeva"}
    assert d["workflow"] == "invivo.analyze"
    assert d["measurements"]


def test_cli_analyze_json_html_and_store(cli, tmp_path):
    p = _wide(tmp_path, GOOD)
    html = tmp_path / "report.html"
    db = tmp_path / "store.sqlite"
    figs = tmp_path / "figs"
    res = cli(
        [
            "invivo",
            "analyze",
            p,
            "--control",
            "Vehicle",
            "--format",
            "json",
            "--html",
            html,
            "--n-boot",
            "200",
            "--endpoint",
            "500",
            "--figures",
            figs,
            "--db",
            db,
            "--study",
            "xeno",
        ]
    )
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["arms"]["Drug"]["tgi_delta"]["estimate"] is not None
    assert d["day"] == 21
    page = html.read_text()
    assert "<svg" in page
    assert "tgi_delta" in page
    assert (figs / "mean_sem.svg").exists()
    assert (figs / "waterfall.png").exists()
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        runs = store.runs(kind="invivo.analyze")
        assert len(runs) == 1
        labels = {m.sample.label for m in store.measurements(target="tumour")}
    assert "4 tumour" in labels


def test_cli_text_and_table(cli, tmp_path):
    p = _wide(tmp_path, GOOD)
    res = cli(["invivo", "analyze", p, "--control", "Vehicle", "--n-boot", "100"])
    assert res.exit_code == 0, res.stderr
    assert "tgi_delta" in res.stdout
    assert "mixed model" in res.stdout
    res = cli(["invivo", "table", p])
    assert res.exit_code == 0, res.stderr
    assert "subject\tarm\tday\tvalue" in res.stdout


BAD = [
    (  # missing baseline
        "Treatment,Mouse,-1,7\nVehicle,1,100,300\nVehicle,2,,330\nDrug,3,110,150\nDrug,4,90,140\n",
        "Vehicle",
        ["line 3", "column -1", "no baseline volume"],
    ),
    (  # negative volume
        "Treatment,Mouse,-1,7\nVehicle,1,100,300\nVehicle,2,120,-330\nDrug,3,110,150\nDrug,4,90,140\n",
        "Vehicle",
        ["line 3", "column 7", "negative volume"],
    ),
    (  # an arm with one mouse
        "Treatment,Mouse,-1,7\nVehicle,1,100,300\nVehicle,2,120,330\nDrug,3,110,150\n",
        "Vehicle",
        ["line 4", "column arm", "has one animal"],
    ),
    (  # a day column that is not a number
        "Treatment,Mouse,-1,day seven\nVehicle,1,100,300\nVehicle,2,120,330\nDrug,3,110,150\n",
        "Vehicle",
        ["line 1", "column day seven", "is not a number"],
    ),
    (  # a control arm that does not exist
        GOOD,
        "vehicle",
        ["column arm", "control arm 'vehicle' is not in the data", "'Vehicle'"],
    ),
]


@pytest.mark.parametrize(("text", "control", "needles"), BAD)
def test_bad_input_exit_2_named_and_nothing_stored(cli, tmp_path, text, control, needles):
    p = _wide(tmp_path, text)
    db = tmp_path / "store.sqlite"
    res = cli(["invivo", "analyze", p, "--control", control, "--db", db, "--format", "json"])
    assert res.exit_code == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("InputError:")
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)
    assert str(p) in res.stderr
    if db.exists():
        from kinresist.store import open_store

        with open_store(str(db)) as store:
            assert store.runs() == []
            assert store.measurements() == []


def test_library_raises_input_error_with_location(tmp_path):
    p = _wide(tmp_path, BAD[0][0])
    with pytest.raises(InputError) as err:
        analyze_growth(read_growth(p), control="Vehicle")
    assert (err.value.line, err.value.column) == (3, "-1")
