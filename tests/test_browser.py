"""The course in a real browser: JupyterLab running notebook 00, and the course's website (issue 21).

JupyterLab: open notebook 00, run all cells, and check what a learner sees.

Starts `jupyter lab` on 127.0.0.1 with a random port and token, drives Debian's Chromium (never a
downloaded browser) headless with Playwright, runs every cell of a copy of
notebooks/00_start_here.ipynb, waits for the kernel to go idle, asserts that no cell shows an
error and that the corpus description appears, saves a screenshot under the test's temporary
folder, and shuts the server down, leaving no process behind.

The website: the book that `make site` builds (LLM_COURSE_SITE_DIR, as .ci/run sets it, or a fresh
build into a temporary folder), served on 127.0.0.1 from this process, read by the same Chromium with
every request to another host blocked: typeset maths, loaded figures, folded cells, Binder and Colab
buttons, highlighted code and previous/next navigation; screenshots under the test's temporary folder.

Skipped when Chromium is missing, unless LLM_COURSE_REQUIRE_BROWSER=1 (set by .ci/run), which
turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "00_start_here.ipynb"
EXPECTED_TEXT = "1,115,394 characters, 65 distinct"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    """Debian's Chromium (as .ci/run installs it); Google Chrome where a CI image ships that instead."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer at {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and every process it started (kernels included): its whole process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:  # kernels may outlive the server by a moment
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server over a copy of notebook 00, on a random port with a random token."""
    workspace = tmp_path / "course"
    (workspace / "notebooks").mkdir(parents=True)
    # A copy without stored outputs: whatever output appears was produced by this run.
    notebook = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (workspace / "notebooks" / NOTEBOOK).write_text(json.dumps(notebook))
    # Settings a learner would click through: start the notebook's kernel, no news prompt.
    settings = tmp_path / "lab-settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True, "windowingMode": "none"})  # every cell in the page
    )
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"})
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    log = open(tmp_path / "jupyter-lab.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={workspace}", "--ServerApp.port_retries=0",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", process)
        yield base, token, tmp_path
    finally:
        stop(process)
        log.close()
    assert process.poll() is not None, "the server is still running"


def test_notebook_00_runs_in_jupyterlab(jupyter_lab):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("LLM_COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail("LLM_COURSE_REQUIRE_BROWSER=1 but Debian's chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base, token, tmp_path = jupyter_lab
    started = time.monotonic()
    with sync_playwright() as playwright:
        # Playwright gives the browser a new, empty profile of its own.
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK}?token={token}", timeout=120_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
            # Wait for the kernel to start, then run every cell from the menu, as a learner would.
            select_kernel = page.locator(".jp-Dialog button", has_text="Select")
            if select_kernel.count():
                select_kernel.first.click()
            kernel_idle = page.get_by_text("Python 3 (ipykernel) | Idle")  # the status bar, once connected
            kernel_idle.wait_for(timeout=120_000)
            page.locator(".jp-NotebookPanel .jp-Cell").first.click()  # focus the notebook
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # Done when no prompt shows [*] and every code cell has an execution count. A folded cell
            # (jupyter.source_hidden) shows a one-line placeholder without its prompt, so only the
            # prompts of open cells are read: run-all goes in order and stops at an error, so a number
            # on the last open cell means every cell before it ran.
            try:
                page.wait_for_function(
                    """() => {
                        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    }""",
                    timeout=float(os.environ.get("LLM_COURSE_BROWSER_TIMEOUT_S", "240")) * 1000,
                )
            except Exception:
                page.screenshot(path=str(tmp_path / "jupyterlab-timeout.png"), full_page=True)
                prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
                raise AssertionError(f"cells did not all run; prompts: {prompts}") from None
            kernel_idle.wait_for(timeout=120_000)
            page.locator(".jp-OutputArea-output", has_text=EXPECTED_TEXT).first.scroll_into_view_if_needed()
            page.wait_for_timeout(500)  # let the scrolled view paint
            page.screenshot(path=str(tmp_path / "jupyterlab.png"))

            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            error_texts = [errors.nth(i).inner_text()[:500] for i in range(errors.count())]
            assert error_texts == [], f"cells show errors: {error_texts}"
            assert page.locator(".jp-OutputArea-output", has_text=EXPECTED_TEXT).count() >= 1
            n_code = page.locator(".jp-CodeCell").count()
            assert n_code >= 5
        finally:
            browser.close()
    elapsed = time.monotonic() - started
    assert (tmp_path / "jupyterlab.png").stat().st_size > 10_000
    print(f"browser test: {n_code} code cells ran in JupyterLab in {elapsed:.1f} s")


# --- the course's website (issue 21): the built book, offline, in Chromium ---------------------

NOTEBOOK_PAGES = [f"notebooks/{path.stem}.html" for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
SITE_PAGES = ["index.html", *[page for page in NOTEBOOK_PAGES if page.split("/")[1][:2] in ("06", "07")]]


def require_or_skip(reason: str) -> None:
    if os.environ.get("LLM_COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LLM_COURSE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """The built book: LLM_COURSE_SITE_DIR when set (.ci/run sets it to what `make site` built just
    before), otherwise a fresh build of the stored notebooks into a temporary folder."""
    given = os.environ.get("LLM_COURSE_SITE_DIR")
    if given:
        pages = Path(given)
        assert (pages / "index.html").is_file(), f"LLM_COURSE_SITE_DIR={given} holds no built site: run make site"
        return pages
    import importlib.util

    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme") if importlib.util.find_spec(name) is None]
    if missing:
        require_or_skip(f"the site's tools are missing ({', '.join(missing)}): run make site once")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"the site build failed:\n{result.stdout}\n{result.stderr}"
    return out / "html"


@pytest.fixture
def site_server(built_site):
    """The built pages over HTTP on 127.0.0.1 (a random port), from a thread of this process."""
    import functools
    import http.server
    import threading

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_built_site_has_every_notebook_and_everything_it_loads(built_site):
    """A static check of the built files: one page per notebook; every script, style sheet, font and
    image a page names is a file of the site (links to other sites are fine: they are links); and
    every local link leads to a file that exists."""
    import re

    for page in NOTEBOOK_PAGES:
        assert (built_site / page).is_file(), f"no page for {page}: the site is stale or the build missed a notebook"
    pages = [path for path in built_site.rglob("*.html") if "_static" not in path.parts]  # not the theme's templates
    remote = re.compile(r"""<(script|img|link|source|iframe)\b[^>]*\b(src|href)=["'](https?:)?//""", re.IGNORECASE)
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for tag in remote.finditer(text):
            snippet = text[tag.start(): tag.start() + 200]
            if tag.group(1).lower() == "link" and re.search(r"""rel=["'](canonical|prev|next|index|search)""", snippet):
                continue  # a link to a page, not something the browser loads
            pytest.fail(f"{path.relative_to(built_site)} loads from another host: {snippet}")
    # Every local link and asset a page names is a file of the site (Sphinx checks the links it writes
    # itself; this also covers the theme's buttons and the copied assets).
    local = re.compile(r"""\b(?:src|href)=["'](?![a-z][a-z0-9+.-]*:|//|#)([^"'#?]*)""", re.IGNORECASE)
    for path in pages:
        for target in local.findall(path.read_text(encoding="utf-8")):
            if target:
                resolved = (path.parent / target).resolve()
                exists = resolved.is_file() or (resolved / "index.html").is_file()
                assert exists, f"{path.relative_to(built_site)} links to {target}, which the site does not have"
    for css in built_site.rglob("*.css"):
        assert not re.search(r"url\(\s*[\"']?(https?:)?//", css.read_text(encoding="utf-8", errors="replace")), (
            f"{css.relative_to(built_site)} loads a font or image from another host"
        )


def test_the_site_reads_offline_in_chromium(site_server, tmp_path):
    """Landing page, notebook 06 and notebook 07 from 127.0.0.1, with every other request blocked:
    maths typeset, figures loaded, folded cells collapsed with a toggle, Binder and Colab buttons,
    highlighted code, and the next-page link leading to the next notebook; screenshots of the three
    under this test's temporary folder. The other notebooks' pages: maths, figures, buttons, code."""
    chromium = find_chromium()
    if chromium is None:
        require_or_skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base = site_server
    blocked, failed, page_errors = [], [], []

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(base + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            context.route("**/*", only_local)
            page = context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(  # a missing file shows as a 404 below; ERR_ABORTED is a load cut short by the next click
                "requestfailed",
                lambda request: failed.append(f"{request.url} ({request.failure})")
                if "ERR_ABORTED" not in (request.failure or "") else None,
            )
            page.on(
                "response",
                lambda response: failed.append(f"{response.url} ({response.status})")
                if response.status >= 400 and not response.url.endswith("/favicon.ico") else None,
            )
            for name in SITE_PAGES:
                page.goto(f"{base}/{name}", wait_until="load", timeout=60_000)
                check_site_page(page, name, blocked)
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=str(tmp_path / f"site-{Path(name).stem}.png"))
                if name.startswith("notebooks/"):
                    check_folded_cells(page, name)
                check_next_link(page, name, base)
            for name in [name for name in NOTEBOOK_PAGES if name not in SITE_PAGES]:  # the rest, more briefly
                page.goto(f"{base}/{name}", wait_until="load", timeout=60_000)
                check_site_page(page, name, blocked)
        finally:
            browser.close()
    assert blocked == [], f"pages asked for something from another host: {blocked}"
    assert [entry for entry in failed if not entry.startswith(tuple(blocked))] == [], f"requests failed: {failed}"
    assert page_errors == [], f"scripts failed on the pages: {page_errors}"
    for name in SITE_PAGES:
        assert (tmp_path / f"site-{Path(name).stem}.png").stat().st_size > 10_000


def check_site_page(page, name: str, blocked: list[str]) -> None:
    """What a reader must see on one page of the book: typeset maths, images, Binder and Colab, code."""
    import re

    # Maths: MathJax, from this site, has typeset every formula; no raw TeX delimiters are left.
    try:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    except Exception:
        raise AssertionError(f"{name}: MathJax did not start; requests blocked (not to this site): {blocked}") from None
    page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")
    math = page.evaluate(
        """() => ({
            formulas: document.querySelectorAll('.math').length,
            rendered: document.querySelectorAll('mjx-container').length,
            untypeset: [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length,
            errors: document.querySelectorAll('mjx-merror').length,
            prose: (() => {  // the page's text without its code and outputs, which may hold a $ of their own
                const article = document.querySelector('article').cloneNode(true);
                article.querySelectorAll('.cell, pre, code, mjx-container').forEach(e => e.remove());
                return article.textContent;
            })(),
        })"""
    )
    assert math["rendered"] > 0 and math["untypeset"] == 0, f"{name}: maths not typeset: {math['formulas']} formulas"
    assert math["errors"] == 0, f"{name}: MathJax shows {math['errors']} errors"
    raw_tex = re.findall(r"\$\$|\\[(\[]|\$[^$\s][^$]*?(?:\\[a-zA-Z]+|[_^{])[^$]*?\$", math["prose"])
    assert raw_tex == [], f"{name}: raw TeX left in the prose: {raw_tex[:5]}"

    # Images: every one loaded; a notebook page shows at least one of its figures.
    images = page.evaluate(
        """() => [...document.querySelectorAll('article img')].map(img => ({
            src: img.getAttribute('src'), width: img.naturalWidth, figure: !!img.closest('.cell_output'),
        }))"""
    )
    assert images and all(image["width"] > 0 for image in images), f"{name}: images not loaded: {images}"
    if name.startswith("notebooks/"):
        assert any(image["figure"] for image in images), f"{name}: no figure"
        notebook = Path(name).stem + ".ipynb"
        # Binder and Colab, for this notebook: the badges under the title and the theme's launch menu.
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        binder = [href for href in hrefs if href.startswith("https://mybinder.org/v2/gh/") and href.endswith(notebook)]
        colab = [href for href in hrefs if href.startswith("https://colab.research.google.com/github/")
                 and href.endswith(f"/notebooks/{notebook}")]
        assert len(binder) >= 2 and len(colab) >= 2, f"{name}: Binder {binder}, Colab {colab}"
        # Highlighted code.
        assert page.locator("div.cell_input .highlight span.kn").count() > 0, f"{name}: code not highlighted"


def check_folded_cells(page, name: str) -> None:
    """Folded (plumbing) cells stay collapsed on the page, and a click on the toggle opens them."""
    folded = page.locator("details.hide.above-input")
    assert folded.count() >= 1, f"{name}: no folded cell"
    first = folded.first
    assert first.get_attribute("open") is None, f"{name}: a folded cell is open"
    assert not first.locator(".cell_input").is_visible(), f"{name}: a folded cell's code shows"
    first.locator("summary").click()
    assert first.locator(".cell_input").is_visible(), f"{name}: the toggle does not open the folded cell"


def check_next_link(page, name: str, base: str) -> None:
    """The next-page link leads to the next notebook (from the landing page: to the first one)."""
    pages = ["index.html", *NOTEBOOK_PAGES]
    here = pages.index(name)
    if here + 1 == len(pages):
        return
    next_link = page.locator("a.right-next")
    assert next_link.count() == 1, f"{name}: no next-page link"
    next_link.click()
    page.wait_for_load_state("load")
    assert page.url.split("#")[0] == f"{base}/{pages[here + 1]}", f"{name}: next leads to {page.url}"
