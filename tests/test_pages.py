"""rgbench's HTML pages as a reader's browser shows them: scripts/check_pages.py renders a page in
headless Chromium and reports horizontal overflow, broken images and JavaScript errors. Each
detector is shown to fire on a page made to trip it and to stay quiet on one that is not, then the
shipped leaderboard page is checked at its 1400 px size and a one-store leaderboard at 1280 px.

Skipped, with the reason, where there is no Chromium (``$RGBENCH_CHROMIUM``, or ``chromium``,
``chromium-browser``, ``google-chrome`` on PATH)."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import ROOT, run_rgbench

pytestmark = pytest.mark.slow  # each test runs Chromium in a subprocess (about a second)

_spec = importlib.util.spec_from_file_location("check_pages", ROOT / "scripts" / "check_pages.py")
check_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_pages)

try:
    CHROMIUM = check_pages.require_chromium(None)
except check_pages.ChromiumNotFound as e:
    pytest.skip(f"no headless Chromium to render the pages with ({e})", allow_module_level=True)

TIMEOUT_S = 30


def page(tmp_path, body: str, head: str = "", name: str = "page.html"):
    path = tmp_path / name
    path.write_text(f'<!doctype html><html lang="en"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>')
    return path


def check(path, width=1400, **kw) -> dict:
    return check_pages.check_page(path, width, chromium=CHROMIUM, timeout=TIMEOUT_S, **kw)


def test_a_wide_table_overflows_and_a_narrow_page_does_not(tmp_path):
    wide = check(page(tmp_path, '<table style="width:2000px"><tr><td>wide</td></tr></table>', name="wide.html"))
    assert wide["error"] is None
    assert wide["overflow"] and not wide["ok"]
    assert wide["scroll_width"] >= 2000 > wide["client_width"]

    narrow = check(page(tmp_path, '<table style="width:600px"><tr><td>narrow</td></tr></table>', name="narrow.html"))
    assert narrow["error"] is None
    assert not narrow["overflow"] and narrow["ok"], narrow
    assert narrow["inner_width"] == 1400


def test_a_table_scrolling_in_its_own_box_fails_only_strict(tmp_path):
    path = page(tmp_path, '<div style="overflow-x:auto"><table style="width:2000px"><tr><td>x</td></tr></table></div>')
    lenient, strict = check(path), check(path, strict=True)
    assert not lenient["overflow"] and lenient["ok"], lenient
    assert [b["element"] for b in lenient["scrolling_boxes"]] == ["div"]
    assert not strict["ok"]


@pytest.mark.parametrize("where", ["head", "body"])
def test_a_script_that_throws_is_a_js_error(tmp_path, where):
    boom = '<script>throw new Error("boom")</script>'
    thrown = check(page(tmp_path, "<p>hi</p>" + (boom if where == "body" else ""), head=boom if where == "head" else ""))
    assert thrown["error"] is None
    assert any("boom" in e for e in thrown["js_errors"]), thrown
    assert not thrown["ok"]

    quiet = check(page(tmp_path, "<p>hi</p><script>document.title = 'fine'</script>", name="quiet.html"))
    assert quiet["js_errors"] == [] and quiet["uncaught"] == [] and quiet["ok"], quiet


def test_a_broken_image_is_reported(tmp_path):
    # a 1 × 1 PNG, next to the page: the copy Chromium renders resolves it from the page's own folder
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2210bc40000000049454e44ae426082"
    )
    (tmp_path / "dot.png").write_bytes(png)
    broken = check(page(tmp_path, '<img alt="dot" src="dot.png"><img alt="bad" src="data:image/png;base64,AAAA">'))
    assert broken["error"] is None
    assert broken["images"] == 2
    assert [b.startswith("data:image/png;base64,AAAA") for b in broken["broken_images"]] == [True], broken
    assert not broken["ok"]

    missing = check(page(tmp_path, '<img alt="gone" src="no-such-file.png">', name="missing.html"))
    assert len(missing["broken_images"]) == 1 and not missing["ok"]


def test_the_shipped_leaderboard_page_fits_1400_px():
    shipped = ROOT / "results" / "LEADERBOARD.html"
    if not shipped.is_file():
        pytest.skip(f"{shipped.relative_to(ROOT)} is not there (scripts/regenerate-results.sh writes it)")
    r = check(shipped, 1400)
    assert r["ok"], check_pages.format_record(r)
    assert r["images"] >= 1  # the heatmap


def test_a_one_store_leaderboard_needs_no_sideways_scroll_at_1280_px(tmp_path):
    store = ROOT / "results" / "smoke.zarr"
    if not store.is_dir():
        pytest.skip(f"{store.relative_to(ROOT)} is not there")
    html = tmp_path / "board.html"
    done = run_rgbench("leaderboard", store, "--format", "json", "--out", tmp_path / "board.json", "--html", html)
    assert done.returncode == 0, done.stderr
    r = check(html, 1280, strict=True)
    assert r["ok"], check_pages.format_record(r)
