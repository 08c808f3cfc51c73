"""``kedro viz build`` served over HTTP and opened in a real headless Chromium.

Needs Debian's ``chromium`` (``/usr/bin/chromium``; ``.ci/run`` installs it) and the
``playwright`` Python package, which only drives the browser over the DevTools
protocol: it never downloads a browser of its own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import CHROMIUM, chromium
from tests.project import Project

# A few node names of each pipeline, as kedro-viz labels them (pretty names off);
# the first is in no other pipeline.
NODES = {
    "boston_kfold": ("split_dataset", "fit_standardiser", "train_final_model"),
    "imdb": ("load_reviews", "vectorize", "decode_reviews"),
    "reuters": ("load_newswires", "encode_labels", "random_baseline"),
    "mnist": ("prepare_images", "plot_test_images", "plot_confident_mistakes"),
    "scratch_cnn": ("select_subsets", "train", "plot_confusion_matrix"),
    "mnist_dense": ("flatten_images", "build_model", "train_with_holdout"),
}
# boston_kfold's nodes of one stage (its tag), as kedro-viz labels them.
BOSTON_STAGES = {
    "prepare": {"fit_standardiser", "standardise"},
    "train": {
        "split_folds",
        "train_fold",
        "summarise_folds",
        "smooth_mean_curve",
        "best_epoch",
        "choose_final_epochs",
        "train_final_model",
    },
}
LAYERS = {
    "raw",
    "intermediate",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The static kedro-viz site of a fresh copy of the project."""
    project = Project.copy_of_repo(tmp_path_factory.mktemp("viz_project"))
    done = project.kedro("viz", "build", timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    build = project.path / "build"
    assert (build / "index.html").is_file()
    assert (build / "api" / "main").is_file()
    return build


@pytest.fixture(scope="module")
def site_url(site: Path) -> Iterator[str]:
    """``site`` served by a real HTTP server on 127.0.0.1 (a free port), in a thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    with chromium(tmp_path_factory.mktemp("chromium_profile")) as connected:
        yield connected


@pytest.fixture
def page(browser, site_url: str):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def test_every_pipeline_renders_its_nodes(page, site_url: str, tmp_path: Path):
    """Each pipeline (chosen with kedro-viz's ``pid`` URL parameter, namespaces
    expanded) draws its nodes in the flowchart."""
    for pipeline, expected in NODES.items():
        page.goto(f"{site_url}/?pid={pipeline}&expandAllPipelines=true")
        names = set(_rendered_labels(page, "task"))
        assert set(expected) <= names, f"{pipeline}: {names}"
        others = {nodes[0] for other, nodes in NODES.items() if other != pipeline}
        assert not others & names, f"{pipeline} shows {others & names}"
        # The pipeline selector shows the selected pipeline.
        assert pipeline in _pipeline_selector_text(page)

    page.goto(f"{site_url}/?pid=__default__&expandAllPipelines=true")
    assert set().union(*NODES.values()) <= set(_rendered_labels(page, "task"))
    _close_feature_hints(page)
    screenshot = tmp_path / "kedro_viz.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000
    if os.environ.get("KEDRO_VIZ_SCREENSHOT"):  # to look at it after the run
        shutil.copy(screenshot, os.environ["KEDRO_VIZ_SCREENSHOT"])


def test_data_layers_are_drawn(page, site_url: str):
    """The catalog's ``metadata: kedro-viz: layer`` values become flowchart layers."""
    page.goto(f"{site_url}/?pid=__default__&expandAllPipelines=true")
    _rendered_labels(page, "data")
    # Layers are drawn in the same pass as the nodes: no need to wait long.
    page.wait_for_selector(".pipeline-layer-name", state="attached", timeout=5_000)
    layers = {
        text.strip().lower()
        for text in page.locator(".pipeline-layer-name").all_text_contents()
    }
    assert layers >= LAYERS, layers
    assert page.locator(".pipeline-layer").count() >= len(LAYERS)


def test_parameters_are_grouped_per_pipeline(page, site_url: str):
    """With parameter nodes switched on (kedro-viz's ``types`` URL parameter), each
    pipeline draws only parameters of its own namespace; collapsed, the whole
    project is one modular-pipeline node per namespace, its parameters around it."""
    types = "types=nodes,datasets,parameters"
    for pipeline, nodes in NODES.items():
        page.goto(f"{site_url}/?pid={pipeline}&{types}&expandAllPipelines=true")
        parameters = _rendered_labels(page, "parameters")
        assert parameters, f"{pipeline}: no parameter node drawn"
        assert all(label.startswith(f"params:{pipeline}.") for label in parameters), (
            parameters
        )
        assert set(nodes) <= set(_rendered_labels(page, "task"))

    page.goto(f"{site_url}/?pid=__default__&{types}&expandAllPipelines=false")
    assert set(_rendered_labels(page, "modularPipeline")) == set(NODES)
    namespaces = {
        label.removeprefix("params:").split(".")[0]
        for label in _rendered_labels(page, "parameters")
    }
    assert namespaces == set(NODES), namespaces
    # Collapsed, no task node is drawn: they are all inside their namespace.
    assert not page.locator("g.pipeline-node--task").count()


def test_the_tag_filter_shows_one_stage(page, site_url: str):
    """Every node is tagged with its stage: kedro-viz's tag filter (its ``tags`` URL
    parameter) shows that stage's nodes only."""
    for stage, expected in BOSTON_STAGES.items():
        page.goto(f"{site_url}/?pid=boston_kfold&tags={stage}&expandAllPipelines=true")
        assert set(_rendered_labels(page, "task")) == expected, stage


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def _rendered_labels(page, node_type: str) -> list[str]:
    """The labels of the flowchart's drawn nodes of one kedro-viz type."""
    selector = f"g.pipeline-node--{node_type} .pipeline-node__text"
    page.wait_for_selector(selector)
    page.wait_for_load_state("networkidle")
    return [text.strip() for text in page.locator(selector).all_text_contents()]


def _close_feature_hints(page) -> None:
    """Close the "new feature" hint card a fresh profile opens over the graph."""
    close = page.locator(".feature-hints__close")
    with contextlib.suppress(PlaywrightTimeout):
        close.wait_for(state="visible", timeout=3_000)
        close.click()
        close.wait_for(state="hidden", timeout=3_000)


def _pipeline_selector_text(page) -> str:
    return page.locator(".pipeline-list").first.inner_text()
