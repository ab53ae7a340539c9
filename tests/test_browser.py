"""A real run's report.html in headless Chromium at 1400 and 800 px: nothing overflows
sideways, the console stays clean, the tree is there and clicking a node shows its code.

Needs Debian's ``chromium`` (or MLE_STAR_CHROMIUM=/path/to/chrome) and the ``playwright``
package (used only as a driver: it never downloads a browser). Without them the test skips,
except under CI, where it fails. MLE_STAR_SCREENSHOT_DIR=docs keeps the screenshots there
(docs/report-1400.png, docs/report-800.png).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_report import real_run

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    """The browser binary, or skip (fail under CI) saying what is missing."""
    path = os.environ.get("MLE_STAR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    if not path:
        missing.append("no chromium binary (apt-get install chromium, or set MLE_STAR_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed (pip install playwright; no browser download)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    return str(path)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium, args=LAUNCH_ARGS,
            headless=True, viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_report_renders_without_overflow_or_errors_and_the_tree_opens_code(browser, tmp_path_factory, bc_task,
                                                                          tmp_path, width):
    from playwright.sync_api import expect

    run_dir = real_run(tmp_path_factory, bc_task)
    record = json.loads((run_dir / "run.json").read_text())
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    nodes = page.locator("#tree a.node")
    assert nodes.count() == len(record["journal"])
    plot = page.locator("svg.plot").bounding_box()
    assert plot is not None and plot["x"] + plot["width"] <= width

    # the submission's source is selected on load; clicking a refinement shows its highlighted code
    refinement = next(e["name"] for e in record["journal"] if e["kind"] == "refinement" and e["workdir"])
    page.locator(f'#tree a.node[title^="{refinement}:"]').click()
    detail = page.locator(".node-detail.shown")
    # the page switches details on 'hashchange', which fires after the click returns: wait for it
    expect(detail.locator("h3")).to_have_text(refinement)
    assert detail.count() == 1
    code = detail.locator("pre.code")
    assert code.is_visible()
    solution = (run_dir / "scripts" / refinement / "solution.py").read_text()
    assert code.inner_text().strip() == solution.strip()
    assert code.locator("span.k").count() > 10 and code.locator("span.s").count() > 0  # highlighted
    assert page.locator("#tree a.node.sel").inner_text().split()[1] == refinement.split("/")[-1]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # still, with the code open

    # what a person sees first: the facts, the summary, the plot and the search explorer
    shot = tmp_path / f"report-{width}.png"
    page.evaluate("window.scrollTo(0, 0)")
    bottom = page.evaluate("document.getElementById('explorer').getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": width,
                                                          "height": min(bottom + 16, 4000)})
    if os.environ.get("MLE_STAR_SCREENSHOT_DIR"):
        target = Path(os.environ["MLE_STAR_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)
    page.close()
    assert not errors, errors
