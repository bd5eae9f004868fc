"""`voila notebooks/06_interactive_lab.ipynb` serves the lab as an app: no code, working controls."""
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import ARTIFACTS, ROOT, _free_port, _skip_reason, stop_process_group
from .test_lab_in_browser import generation, image_src, press_toward_room, slider, wait_for_redraw

#: the lab in both editions, and the label its clients slider shows there
EDITIONS = {"06_interactive_lab.ipynb": "clients K", "zh/06_interactive_lab.ipynb": "客户端数 K"}


@pytest.fixture(scope="module", params=[name for name in EDITIONS if (ROOT / "notebooks" / name).exists()])
def voila_server(tmp_path_factory, request):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    notebook = ROOT / "notebooks" / request.param
    port = _free_port()
    log_path = tmp_path_factory.mktemp("voila") / "voila.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), f"--port={port}",
         "--no-browser", "--Voila.ip=127.0.0.1"], cwd=notebook.parent, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "api/status", timeout=2):
                break
        except OSError as error:
            if getattr(error, "code", None):      # an HTTP answer: the server is up
                break
        if process.poll() is not None or time.time() > deadline:
            log.close()
            raise RuntimeError("voila did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.5)
    yield {"base": base, "log": log_path, "clients_label": EDITIONS[request.param],
           "name": request.param.replace("/", "_").removesuffix(".ipynb")}
    stop_process_group(process)
    log.close()


def test_voila_serves_the_lab_without_code(voila_server, page):
    page.goto(voila_server["base"], timeout=180000)
    page.wait_for_selector("svg.fl-lab-figure", timeout=180000)
    assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor").count() == 0, "voila shows no code"
    assert "Traceback" not in page.content()
    s = slider(page, voila_server["clients_label"])
    before_g, before_svg = generation(page), image_src(page)
    press_toward_room(page, s)
    wait_for_redraw(page, before_g, before_svg)
    dashboard = page.locator("svg.fl-lab-figure").first
    dashboard.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"voila_{voila_server['name']}.png"), full_page=False)
    assert dashboard.bounding_box()["width"] > 600, "the figure keeps its size in the app layout"
    assert "Traceback" not in voila_server["log"].read_text()
