"""Snakemake's HTML report in a real browser: every category and every figure loads.

`make test-browser` runs these (it installs Debian's chromium first if it is missing, as root). Under
a plain `pytest` they are skipped when no Chromium is installed, unless NNMAT_REQUIRE_BROWSER=1,
which turns a missing browser into a failure.

The report checked is NNMAT_REPORT_HTML=<file> if set, else the report of the tiny config's run
(the session's `run_a`, built with `snakemake --report` into a temporary folder). Chromium opens it
headless through the DevTools protocol (chromium_cdp.py), clicks every category of the menu and the
view button of every result, and fails on an image that does not decode, a result that cannot be
reached, or any console error, uncaught exception or failed load. Screenshots of every view are saved
to NNMAT_SCREENSHOTS=<folder>, or to a temporary folder, whose path is printed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from chromium_cdp import Chromium, find_chromium

CHROMIUM = find_chromium()
REQUIRED = os.environ.get("NNMAT_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED, reason="no Chromium installed (`make test-browser` installs it)"
)

APP_READY = "typeof app !== 'undefined' && document.querySelector('#app').children.length > 0"
MENU_LINK = "[...document.querySelectorAll('#app a')].find(a => a.textContent.trim() === {name})"
# The rows of the results table in the menu (the header row has no <td>).
ROWS = "[...document.querySelectorAll('#app table tr')].filter(r => r.querySelector('td'))"


def js(value) -> str:
    """A Python value as a JavaScript literal (JSON is valid JavaScript)."""
    return json.dumps(value)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


@pytest.fixture(scope="module")
def report_html(request, tmp_path_factory) -> Path:
    given = os.environ.get("NNMAT_REPORT_HTML")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"NNMAT_REPORT_HTML={given}: no such file"
        return path
    from e2e import snakemake

    run = request.getfixturevalue("run_a")
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(run, "--report", str(path))
    assert path.stat().st_size > 0
    return path


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("NNMAT_SCREENSHOTS") or tmp_path_factory.mktemp("report-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    print(f"\nreport screenshots: {folder} ({len(list(folder.glob('*.png')))} files)")


@pytest.fixture(scope="module")
def browser(report_html, tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("NNMAT_REQUIRE_BROWSER=1 but no Chromium is installed (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    profile.mkdir()
    chromium = Chromium(CHROMIUM, profile)
    try:
        chromium.open_page()
        chromium.navigate(report_html.as_uri(), timeout=120)
        chromium.wait_for(APP_READY, timeout=60)
        yield chromium
    finally:
        chromium.close()


def show_menu(browser: Chromium) -> None:
    browser.evaluate("app.setView({navbarMode: 'menu'}); true")
    browser.wait_for("app.state.navbarMode === 'menu'")


def check_image(browser: Chromium, path: str) -> list[int]:
    """Width and height of the figure shown for result `path`, once decoded (fails if broken)."""
    browser.wait_for(f"app.state.resultPath === {js(path)} && app.state.content === 'img'")
    size = browser.evaluate(
        f"""(async () => {{
            const uri = results[{js(path)}].data_uri;
            const img = [...document.querySelectorAll('#app img')].find(i => i.src === uri);
            if (!img) return 'no <img> for this result';
            try {{ await img.decode(); }} catch (err) {{ return 'does not decode: ' + err; }}
            return img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : 'empty image';
        }})()"""
    )
    assert isinstance(size, list), f"{path}: {size}"
    return size


def test_report_opens_without_errors(browser, screenshots):
    categories = browser.evaluate("Object.keys(categories)")
    assert categories, "the report has no result categories"
    for name in categories:
        assert browser.evaluate(f"!!{MENU_LINK.format(name=js(name))}"), f"category {name!r} not in the menu"
    browser.screenshot(screenshots / "00_start.png")
    assert not browser.problems(), browser.problems()


@pytest.mark.parametrize("view", ["Workflow", "Statistics", "About"])
def test_general_views_render(browser, screenshots, view):
    show_menu(browser)
    browser.click(MENU_LINK.format(name=js(view)))
    browser.wait_for("document.querySelector('#app').innerText.length > 0")
    browser.screenshot(screenshots / f"01_{slug(view)}.png")
    assert not browser.problems(), browser.problems()


def test_every_category_and_figure_loads(browser, screenshots):
    tree = browser.evaluate(
        "Object.fromEntries(Object.entries(categories).map(([c, subs]) => [c, Object.fromEntries("
        "Object.entries(subs).map(([s, paths]) => [s, Object.values(paths)]))]))"
    )
    mime = browser.evaluate("Object.fromEntries(Object.entries(results).map(([p, r]) => [p, r.mime_type]))")
    seen_figures, unreachable = 0, []
    for n, category in enumerate(sorted(tree)):
        for subcategory, paths in tree[category].items():
            show_menu(browser)
            browser.click(MENU_LINK.format(name=js(category)))
            browser.wait_for("['category', 'subcategory'].includes(app.state.navbarMode)")
            if browser.evaluate("app.state.navbarMode") == "category":
                browser.click(MENU_LINK.format(name=js(subcategory)))
            shown = f"app.state.navbarMode === 'subcategory' && app.state.subcategory === {js(subcategory)}"
            browser.wait_for(shown)
            rows = browser.evaluate(f"{ROWS}.length")
            assert rows == len(paths), f"{category} / {subcategory}: {rows} rows for {len(paths)} results"
            browser.screenshot(screenshots / f"{n + 2:02d}_{slug(category)}.png")
            reached = set()
            for row in range(rows):
                button = f"{ROWS}[{row}].querySelector('td:last-child a')"
                href = browser.evaluate(f"{button}.getAttribute('href')")
                if href == "#":  # shown in the page: a figure (or HTML/PDF)
                    before = browser.evaluate("app.state.resultPath ?? null")
                    browser.click(button)
                    browser.wait_for(f"(app.state.resultPath ?? null) !== {js(before)}")
                    path = browser.evaluate("app.state.resultPath")
                    if mime[path].startswith("image/"):
                        check_image(browser, path)
                        seen_figures += 1
                        name = f"{n + 2:02d}_{slug(category)}_{slug(Path(path).stem)}.png"
                        browser.screenshot(screenshots / name)
                else:  # offered as a download: the link must carry the file
                    uris = browser.evaluate(f"{js(paths)}.map(p => results[p].data_uri)")
                    path = dict(zip(uris, paths, strict=True)).get(href)
                    assert path and len(href) > 40, f"{category}: row {row} links to nothing"
                reached.add(path)
            unreachable += sorted(set(paths) - reached)
    assert not unreachable, f"results not reachable from the menu: {unreachable}"
    images = [p for p, m in mime.items() if m.startswith("image/")]
    assert seen_figures == len(images), f"{seen_figures} figures shown of {len(images)} in the report"
    assert not browser.problems(), browser.problems()
