"""Driving a notebook in JupyterLab through ``window.jupyterapp`` (--expose-app-in-browser)."""
from __future__ import annotations

import re
import time

KERNEL_IDLE = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.sessionContext.session) return false;
  const kernel = panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""

# a cell whose source is hidden (the exercises' solution cells) has no input prompt in the page: its
# execution count alone says it ran (KERNEL_IDLE, waited for next, says nothing still runs)
ALL_EXECUTED = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets;
  return cells.every(c => {
    if (c.model.type !== 'code') return true;
    const prompt = c.node.querySelector('.jp-InputArea-prompt');
    return c.model.executionCount !== null && !(prompt && prompt.textContent.includes('*'));
  });
}"""


def open_notebook(page, server, name: str, timeout_s: float = 120) -> None:
    # ?reset: a fresh workspace, so tabs of earlier tests are not restored next to this one
    page.goto(f"{server['base']}/lab/tree/notebooks/{name}?reset&token={server['token']}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.content "
                           "&& window.jupyterapp.shell.currentWidget.content.widgets", timeout=timeout_s * 1000)
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)


def run_all(page, timeout_s: float = 480) -> float:
    """Clear the committed outputs, run every cell, wait for an idle kernel; returns seconds."""
    t0 = time.perf_counter()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => { window.__runAll = 'running'; window.jupyterapp.commands.execute('notebook:run-all-cells')"
                  ".then(() => { window.__runAll = 'done'; }, (e) => { window.__runAll = 'failed: ' + e; }); }")
    page.wait_for_function("() => window.__runAll !== 'running'", timeout=timeout_s * 1000)
    page.wait_for_function(ALL_EXECUTED, timeout=timeout_s * 1000)
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000)
    return time.perf_counter() - t0


def wait_for_widgets(page, timeout_s: float = 30) -> int:
    """Wait until the number of rendered widgets stops changing; return it."""
    deadline = time.time() + timeout_s
    last, stable_since = -1, time.time()
    while time.time() < deadline:
        count = page.locator(".jp-OutputArea-output .jupyter-widgets").count()
        loading = page.get_by_text("Loading widget").count()
        if count != last or loading:
            last, stable_since = count, time.time()
        elif time.time() - stable_since > 2.0:
            return count
        time.sleep(0.25)
    return last


def full_screenshot(page, path) -> None:
    height = page.evaluate("() => { const n = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"
                           " || document.querySelector('.jp-NotebookPanel-notebook');"
                           " return n ? n.scrollHeight + 200 : 1000; }")
    page.set_viewport_size({"width": 1500, "height": min(int(height), 30000)})
    page.evaluate("() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer,"
                  " .jp-NotebookPanel-notebook').forEach(n => { n.scrollTop = 0; })")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path), full_page=True)


def shut_down_kernel(page) -> None:
    """Stop the notebook's kernel (each notebook test starts its own)."""
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")


#: ipykernel 7's interpreter teardown can print an "Exception ignored in: <coroutine object
#: Kernel.shell_channel_thread_main ...>" traceback ending in "RuntimeError: Event loop is closed" after a kernel
#: was asked to shut down (ipython/ipykernel#1155): a stopped kernel's noise, not an error of a notebook.
KERNEL_TEARDOWN_NOISE = re.compile(
    r"Exception ignored in: <coroutine object Kernel\.shell_channel_thread_main[^\n]*\n"
    r"Traceback \(most recent call last\):\n"
    r"(?:[ \t]+[^\n]*\n)*"
    r"RuntimeError: Event loop is closed\n?")
#: the same kernel's output stream still flushing while pyzmq shuts down: tornado logs "Uncaught exception in
#: ZMQStream callback" (or "Exception in callback ... ZMQStream") with a traceback through ipykernel/iostream.py
#: ending in pyzmq's "RuntimeError: zmq gc socket requested during shutdown" (seen in CI-like runs after
#: "Kernel shutdown"): also a stopped kernel's noise.
ZMQ_SHUTDOWN_NOISE = re.compile(
    r"ERROR:tornado\.(?:general|application):(?:Uncaught exception in (?:ZMQStream|zmqstream) callback"
    r"|Exception in callback functools\.partial\(<function ZMQStream\.[^\n]*)\n"
    r"Traceback \(most recent call last\):\n"
    r"(?:[ \t]+[^\n]*\n)*"
    r"RuntimeError: zmq gc socket requested during shutdown\n?")


def server_log_without_teardown_noise(log: str) -> str:
    """The server log with ipykernel's known teardown tracebacks (and only those) removed."""
    return ZMQ_SHUTDOWN_NOISE.sub("", KERNEL_TEARDOWN_NOISE.sub("", log))


# --- the classroom panels (fl.widgets.ControlPanel): every control moved, reset, a preset ------------------------

PANEL_GENERATION = """(panel) => {
  const busy = panel.querySelector('.fl-panel-busy[data-generation]');
  return busy ? Number(busy.dataset.generation) : 0;
}"""


def _panel_generation(panel) -> int:
    return int(panel.evaluate(PANEL_GENERATION))


def _wait_for_next_generation(page, panel, before: int, timeout_s: float) -> float:
    """Wait until the panel's callback has finished once more; returns the seconds it took."""
    t0 = time.perf_counter()
    handle = panel.element_handle()
    page.wait_for_function(f"([panel, g]) => ({PANEL_GENERATION})(panel) > g", arg=[handle, before],
                           timeout=timeout_s * 1000)
    return time.perf_counter() - t0


def _readout(slider) -> str:
    readout = slider.locator(".widget-readout")
    return readout.first.inner_text() if readout.count() else slider.locator(".noUi-handle").first.get_attribute(
        "aria-valuenow")


#: what a panel says when its callback raised, in either language (the panel's message before its ": ")
RUN_FAILED = ("The run failed", "运行失败")


def exercise_control_panels(page, timeout_s: float = 120) -> dict[str, float]:
    """Move every slider of every ``.fl-panel`` once (the arrow key on its handle), wait for the panel's
    callback to finish and check the page says so without an error; then *reset* (every readout back) and
    the first preset. Returns seconds per control, keyed "panel i: label"."""
    timings: dict[str, float] = {}
    panels = page.locator(".fl-panel")
    for i in range(panels.count()):
        panel = panels.nth(i)
        panel.scroll_into_view_if_needed()
        sliders = panel.locator(".widget-slider")
        defaults = [_readout(sliders.nth(j)) for j in range(sliders.count())]
        for j in range(sliders.count()):
            s = sliders.nth(j)
            label = s.locator(".widget-label").first.inner_text().strip()
            if s.locator(".noUi-target[disabled]").count():
                continue
            before, shown = _panel_generation(panel), _readout(s)
            handle = s.locator(".noUi-handle").first
            now, top = float(handle.get_attribute("aria-valuenow")), float(handle.get_attribute("aria-valuemax"))
            handle.focus()
            page.keyboard.press("ArrowLeft" if now >= top else "ArrowRight")
            timings[f"panel {i}: {label}"] = _wait_for_next_generation(page, panel, before, timeout_s)
            assert _readout(s) != shown, f"panel {i}, {label}: the value did not move"
            text = panel.inner_text()
            assert not any(failed in text for failed in RUN_FAILED) and "Traceback" not in text, \
                f"panel {i}, {label}: {text[-1500:]}"
            assert "⏳" not in panel.locator(".fl-panel-busy").first.inner_text(), f"panel {i}: still busy"
        reset = panel.locator(".fl-panel-reset").first
        before = _panel_generation(panel)
        reset.click()
        _wait_for_next_generation(page, panel, before, timeout_s)
        assert [_readout(sliders.nth(j)) for j in range(sliders.count())] == defaults, f"panel {i}: reset"
        presets = panel.locator(".fl-panel-preset")
        if presets.count():
            options = presets.first.locator("option").all_inner_texts()
            before = _panel_generation(panel)
            presets.first.locator("select").select_option(label=options[1])       # options[0] is "(custom)"
            timings[f"panel {i}: preset {options[1]}"] = _wait_for_next_generation(page, panel, before, timeout_s)
            assert not any(failed in panel.inner_text() for failed in RUN_FAILED), f"panel {i}, preset {options[1]}"
    return timings
