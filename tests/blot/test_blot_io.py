"""Reading images and design files; bad input is an InputError with a message that says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from kinresist.blot import (
    BandSpec,
    analyze_blot,
    design_from_frame,
    image_from_array,
    parse_background,
    read_blot_image,
    read_design,
    simulate_blot,
)
from kinresist.errors import DataQualityWarning, InputError


@pytest.fixture
def blot():
    return simulate_blot(
        [
            BandSpec("p-ALK", 100.0, 5.0, [3e6, 2e6, 1e6, 5e5]),
            BandSpec("GAPDH", 240.0, 4.0, [4e6] * 4),
        ],
        rng=np.random.default_rng(3),
    )


def test_tiff_16bit_is_read_linear_without_warning(tmp_path, blot):
    path = blot.write_tiff(tmp_path / "b.tif")
    img = read_blot_image(path)
    assert (img.bit_depth, img.source_format, img.name, img.inverted) == (
        16,
        "tiff",
        "b.tif",
        False,
    )
    assert img.flags == ()
    np.testing.assert_array_equal(img.signal, blot.pixels.astype(float))
    assert img.saturation_value == 65535.0


def test_png_16bit_is_read_without_warning(tmp_path, blot):
    path = tmp_path / "b.png"
    Image.fromarray(blot.pixels).save(path)
    img = read_blot_image(path)
    assert img.bit_depth == 16
    np.testing.assert_array_equal(img.signal, blot.pixels.astype(float))


@pytest.mark.parametrize(("suffix", "flag"), [(".png", "8bit_display"), (".jpg", "jpeg_lossy")])
def test_8bit_png_and_jpeg_warn_not_linear(tmp_path, blot, suffix, flag):
    eight = (blot.pixels / 257).astype(np.uint8)
    path = tmp_path / f"b{suffix}"
    Image.fromarray(eight).save(path)
    with pytest.warns(DataQualityWarning, match="not linear"):
        img = read_blot_image(path)
    assert img.bit_depth == 8
    assert flag in img.flags
    assert img.saturation_value == 255.0
    res = analyze_blot([img])
    assert any("not linear" in w for w in res.warnings)
    assert res.tables["bands"]["flags"].str.contains(flag).all()


def test_grey_saved_as_rgb_is_accepted(tmp_path, blot):
    eight = (blot.pixels / 257).astype(np.uint8)
    path = tmp_path / "grey_rgb.png"
    Image.fromarray(np.dstack([eight] * 3)).save(path)
    with pytest.warns(DataQualityWarning):
        img = read_blot_image(path)
    np.testing.assert_array_equal(img.signal, eight.astype(float))


def test_rgb_photo_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, size=(120, 160, 3), dtype=np.uint8)
    for name in ("photo.png", "photo.jpg"):
        Image.fromarray(photo).save(tmp_path / name)
        with pytest.raises(InputError, match="3-channel colour image"):
            read_blot_image(tmp_path / name)
    tifffile.imwrite(tmp_path / "photo.tif", photo, photometric="rgb")
    with pytest.raises(InputError, match="3-channel colour image") as err:
        read_blot_image(tmp_path / "photo.tif")
    assert "photo.tif" in str(err.value)


def test_not_an_image_is_refused(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("lane,sample\n1,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable image"):
        read_blot_image(path)
    with pytest.raises(InputError, match="no such image file"):
        read_blot_image(tmp_path / "missing.tif")


def test_stack_and_tiny_and_uniform_images_are_refused(tmp_path):
    stack = np.zeros((3, 64, 64), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    with pytest.raises(InputError, match="one single-channel image per file"):
        read_blot_image(tmp_path / "stack.tif")
    with pytest.raises(InputError, match="too small"):
        image_from_array(np.ones((8, 100), dtype=np.uint16))
    with pytest.raises(InputError, match="uniform"):
        image_from_array(np.full((50, 100), 7, dtype=np.uint16))


def test_more_lanes_than_the_image_allows(blot):
    img = image_from_array(blot.pixels, name="b.tif")
    with pytest.raises(InputError, match=r"500 lanes do not fit an image 250 pixels wide"):
        analyze_blot([img], n_lanes=500)
    with pytest.raises(InputError, match="leaves the image"):
        analyze_blot([img], lane_boundaries="0-40,50-300")


def test_background_names_are_checked():
    assert str(parse_background("rolling_ball(50)")) == "rolling_ball(50)"
    assert str(parse_background("border_median")) == "border_median(3)"
    assert parse_background("user_region", region="1,2,30,40").region == (1, 2, 30, 40)
    for bad in (
        "rolling_ball",
        "tophat",
        "user_region",
        "lane_min_line(3)",
        "user_region(5,5,1,1)",
    ):
        with pytest.raises(InputError):
            parse_background(bad)


def _design_csv(tmp_path, text: str):
    path = tmp_path / "design.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_design_reads_roles_controls_and_trailing_blank_lines(tmp_path):
    path = _design_csv(
        tmp_path,
        "Lane,Sample,Cell line,Treatment,Dose,Antibody\n"
        "1,a,H3122,DMSO,0,p-ALK\n2,b,H3122,crizotinib,100,p-ALK\n"
        "1,a,H3122,DMSO,0,GAPDH\n2,b,H3122,crizotinib,100,GAPDH\n\n\n",
    )
    d = read_design(path)
    assert len(d.frame) == 4
    assert list(d.frame["role"]) == ["target", "target", "loading_control", "loading_control"]
    assert list(d.frame["control"]) == [True, False, True, False]
    assert list(d.frame["line"]) == [2, 3, 4, 5]
    assert any("roles inferred" in n for n in d.notes)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("lane,sample,target\n1,a,ALK\n\n2,b,ALK\n", r"line 3: empty design row"),
        ("lane,sample,target\n1,a,ALK\n,,\n2,b,ALK\n", r"line 3: empty design row"),
        ("lane,sample,target\n1,,ALK\n", r"line 2, column sample: row has no sample"),
        ("lane,sample\n1,a\n", r"lacks column\(s\) target"),
        ("lane,sample,target\nA,a,ALK\n", r"column lane: lane 'A' is not a lane number"),
        ("lane,sample,target,dose\n1,a,ALK,ten\n", r"dose 'ten' is not a number"),
        ("lane,sample,target,role\n1,a,ALK,antigen\n", r"role 'antigen' unknown"),
        (
            "lane,sample,target\n1,a,ALK\n1,b,ALK\n",
            r"lane 1 .* has target 'ALK' twice \(lines 2, 3\)",
        ),
        ("lane,sample,target\n1,a,ALK\n2,a,ALK\n", r"sample 'a' appears in two lanes"),
        ("lane,sample,target\n", r"no rows"),
    ],
)
def test_bad_design_rows(tmp_path, text, match):
    with pytest.raises(InputError, match=match) as err:
        read_design(_design_csv(tmp_path, text))
    assert "design.csv" in str(err.value)


def _design(rows, image="b.tif"):
    return design_from_frame(pd.DataFrame(rows), default_image=image)


def test_design_and_images_must_match(blot):
    img = image_from_array(blot.pixels, name="b.tif")
    rows = [{"image": "other.tif", "lane": 1, "sample": "a", "target": "p-ALK"}]
    with pytest.raises(InputError, match=r"names image\(s\) other.tif that were not given"):
        analyze_blot([img], _design(rows))
    rows = [{"lane": k, "sample": f"s{k}", "target": "p-ALK"} for k in range(1, 7)]
    with pytest.raises(
        InputError, match="4 lanes were detected but the design names lanes up to 6"
    ):
        analyze_blot([img], _design(rows))
    two = [img, image_from_array(blot.pixels, name="c.tif")]
    with pytest.raises(InputError, match="no image column"):
        analyze_blot(two, _design(rows, image=None))


def test_two_targets_need_windows_or_a_ladder(blot):
    img = image_from_array(blot.pixels, name="b.tif")
    rows = [
        {"lane": k, "sample": f"s{k}", "target": t, "dose": 10.0 * (k - 1)}
        for k in range(1, 5)
        for t in ("p-ALK", "GAPDH")
    ]
    with pytest.raises(InputError, match=r"cannot be told apart .* rows detected: 100, 240"):
        analyze_blot([img], _design(rows))
    for r in rows:
        r["window"] = "120-90 kDa" if r["target"] == "p-ALK" else "45-30 kDa"
    with pytest.raises(InputError, match="in kDa but no ladder"):
        analyze_blot([img], _design(rows))
    ladder = "40:150,160:75,280:25"  # row:kDa markers
    res = analyze_blot([img], _design(rows), ladder=ladder)
    bands = res.tables["bands"]
    p = bands[bands["target"] == "p-ALK"]
    assert (p["window_start"] < 100).all()
    assert (p["window_end"] > 100).all()
    assert p["mw_kda"].between(75, 150).all()
    # one target without a window takes the detected band that no other window claims
    for r in rows:
        r["window"] = "" if r["target"] == "p-ALK" else "215-265"
    res = analyze_blot([img], _design(rows))
    w = res.body["images"][0]["windows"]
    assert w["p-ALK"]["source"] == "detected"
    assert w["p-ALK"]["rows"][0] < 100 < w["p-ALK"]["rows"][1]
    assert w["GAPDH"] == {"rows": [215, 266], "source": "design"}
