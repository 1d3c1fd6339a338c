"""JupyterLab in a real browser: open notebook 00, run all cells, and check what a learner sees.

Starts `jupyter lab` on 127.0.0.1 with a random port and token, drives Debian's Chromium (never a
downloaded browser) headless with Playwright, runs every cell of a copy of
notebooks/00_start_here.ipynb, waits for the kernel to go idle, asserts that no cell shows an
error and that the corpus description appears, saves a screenshot under the test's temporary
folder, and shuts the server down, leaving no process behind.

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
            # Done when no prompt shows [*] and every code cell has an execution count.
            try:
                page.wait_for_function(
                    """() => {
                        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                        return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    }""",
                    timeout=float(os.environ.get("LLM_COURSE_BROWSER_TIMEOUT_S", "240")) * 1000,
                )
            except Exception:
                page.screenshot(path=str(tmp_path / "jupyterlab-timeout.png"), full_page=True)
                prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
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
