"""What a person sees in a real browser: the documentation site opened from the file system,
and the step-through page of a backward pass, driven by clicks, the slider and the keys.

Playwright's Python package drives the system's Chromium (Debian's ``chromium`` package;
Playwright's own browser download is never used).  The tests skip, saying why, where either
is missing.  The site is the one ``make test`` has just built into ``site/``; when there is
none, it is built here into a temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.recipes import classic_neuron

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MINIGRAD_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium, or set MINIGRAD_CHROMIUM)",
        allow_module_level=True,
    )

#: The guides that must show figures, and the notebooks.
FIGURE_PAGES = ["index", "getting-started", "rendering", "gradcheck", "training"]
NOTEBOOKS = [
    "01_backprop_by_hand",
    "02_gradient_checking",
    "03_training_loop",
    "04_classification_mlp",
    "05_digits",
    "06_convolutions",
    "07_layernorm_gelu_smoothing",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = ROOT / "site"
    if (built / "index.html").exists() and (built / "figures").is_dir():
        return built
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=1200,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class Watched:
    """A page, with every console error, script error and failed load it had."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None,
        )  # fmt: skip
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def watched(browser):
    page = Watched(browser)
    yield page
    page.close()


def broken_images(page) -> list[str]:
    """Images that did not load (no natural width), and all the images' count."""
    return page.evaluate(
        """() => Array.from(document.images)
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => img.getAttribute('src').slice(0, 80))"""
    )


# ----------------------------------------------------------------------------- the site


def test_navigation_opens_pages_from_the_file_system(site, watched):
    watched.open((site / "index.html").as_uri())
    nav = watched.page.locator("nav.md-nav--primary")
    for title, target in [
        ("Rendering graphs", "rendering.html"),
        ("Gradient checking", "gradcheck.html"),
        ("1. Backpropagation by hand", "notebooks/01_backprop_by_hand.html"),
        ("Home", "index.html"),
    ]:
        nav.get_by_role("link", name=title, exact=True).first.click()
        watched.page.wait_for_load_state("load")
        assert watched.page.url.endswith(target), (title, watched.page.url)
        assert watched.page.locator("article h1").count() >= 1
        assert watched.page.title().strip()
    assert watched.problems == []


@pytest.mark.parametrize("name", FIGURE_PAGES)
def test_guide_pages_show_their_figures(site, watched, name):
    watched.open((site / f"{name}.html").as_uri())
    figures = watched.page.locator(".mg-figure img")
    assert figures.count() >= 1, f"{name}.html has no figure"
    assert broken_images(watched.page) == []
    for k in range(figures.count()):
        box = figures.nth(k).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, (name, k, box)
        assert box["width"] <= 1280  # fits the page
    assert watched.problems == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_in_the_site_with_their_outputs(site, watched, name):
    watched.open((site / "notebooks" / f"{name}.html").as_uri())
    page = watched.page
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.count() >= 3, f"{name}: the notebook has no outputs"
    pictures = page.locator(".jp-OutputArea-output img, .jp-OutputArea-output svg")
    assert pictures.count() >= 1, f"{name}: no picture among the outputs"
    assert broken_images(page) == []
    text = page.locator("article").inner_text()
    assert "Traceback" not in text
    assert "$$" not in text and "\\partial" not in text  # formulas are drawn, not TeX
    if name == "01_backprop_by_hand":
        assert page.locator("article math").count() >= 10
    assert watched.problems == []


def test_search_works_from_the_file_system(site, watched):
    watched.open((site / "index.html").as_uri())
    watched.page.keyboard.press("/")
    watched.page.keyboard.type("gradcheck")
    results = watched.page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert results.count() >= 3
    assert watched.problems == []


def test_the_step_through_page_of_the_site_runs_in_its_frame(site, watched):
    watched.open((site / "rendering.html").as_uri())
    frame = watched.page.frame_locator("iframe.mg-steps")
    assert frame.locator(".frame:not([hidden]) .caption").inner_text().startswith("Step 1 of 10")
    frame.locator("#next").click()
    assert frame.locator(".frame:not([hidden]) .caption").inner_text().startswith("Step 2 of 10")
    assert watched.problems == []


# ----------------------------------------------------------------------------- the stepper


class Stepper:
    """Reads what the step-through page shows."""

    def __init__(self, page):
        self.page = page

    @property
    def visible(self):
        return self.page.locator(".frame:not([hidden])")

    def caption(self) -> str:
        assert self.page.locator(".frame:not([hidden])").count() == 1
        return self.visible.locator(".caption").inner_text()

    def highlighted(self) -> str:
        """The label of the Value drawn in red (being processed)."""
        node = self.visible.locator("g.node:has(polygon[stroke='#d62728'])").first
        return (node.locator("text").first.text_content() or "").strip()

    def gradients(self) -> str:
        return self.visible.locator(".grads .state").inner_text()

    def counter(self) -> str:
        return self.page.locator("#counter").inner_text()


def test_stepping_through_the_backward_pass(tmp_path, watched):
    result = mg.backward_steps(classic_neuron(backward=False), tmp_path / "steps")
    assert result.rendered
    watched.open(result.html.as_uri())
    page = watched.page
    steps = Stepper(page)
    picture = steps.visible.locator("svg").bounding_box()
    assert picture["width"] > 600 and picture["width"] <= 1280  # readable, and it fits

    assert steps.caption().startswith("Step 1 of 10: start at the output o")
    assert steps.highlighted() == "o" and steps.counter() == "step 1 / 10"
    assert page.locator("#prev").is_disabled()

    page.click("#next")
    assert steps.caption().startswith("Step 2 of 10: n has received everything")
    assert steps.highlighted() == "n"
    page.locator(".frame:not([hidden]) .grads summary").click()
    assert re.search(r"^> n: 0\.5$", steps.gradients(), re.M)  # complete at this step
    assert re.search(r"^  o: 1\.0$", steps.gradients(), re.M)
    assert re.search(r"^  x1: \.\.\.$", steps.gradients(), re.M)  # nothing reached it yet

    page.click("#prev")
    assert steps.caption().startswith("Step 1 of 10") and steps.highlighted() == "o"

    page.locator("#slider").fill("10")
    assert steps.caption().startswith("Step 10 of 10: x1 has received everything")
    assert steps.highlighted() == "x1" and page.locator("#next").is_disabled()
    page.locator(".frame:not([hidden]) .grads summary").click()
    assert re.search(r"^> x1: -1\.5$", steps.gradients(), re.M)

    page.locator("h1").click()  # the keys work anywhere but in the slider
    page.keyboard.press("Home")
    assert steps.caption().startswith("Step 1 of 10")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert steps.caption().startswith("Step 3 of 10") and steps.counter() == "step 3 / 10"
    page.keyboard.press("ArrowLeft")
    assert steps.caption().startswith("Step 2 of 10")
    page.keyboard.press("End")
    assert steps.caption().startswith("Step 10 of 10")
    assert page.locator("#slider").input_value() == "10"
    assert watched.problems == []
