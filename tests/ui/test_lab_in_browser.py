"""The lab of notebook 06 in a real browser: every control changes the figure, fast, never stale."""
import re
import statistics
import time

import pytest

from .helpers import open_notebook, run_all, shut_down_kernel, wait_for_widgets

SLIDERS = ["clients K", "fraction C per round", "rounds R", "seed", "local epochs E", "batch size B",
           "client learning rate", "FedProx μ", "server learning rate", "server momentum β", "Dirichlet α"]
DROPDOWNS = {"algorithm": "FedAvgM", "partition": "dirichlet", "data set": "digits"}


def generation(page) -> int:
    return int(page.locator(".fl-lab-status").first.get_attribute("data-generation"))


def image_src(page) -> str:
    """The figure's SVG markup as it is in the page now."""
    figure = page.locator("svg.fl-lab-figure")
    return figure.first.evaluate("n => n.outerHTML") if figure.count() else ""


def wait_for_redraw(page, before_generation: int, before_svg: str, timeout_ms: int = 30000) -> None:
    """Wait until the page shows a newer figure (its generation) that differs from the old one."""
    page.wait_for_function(
        """([g, old]) => {
            const fig = document.querySelector('svg.fl-lab-figure');
            return fig && Number(fig.dataset.generation) > g
                   && fig.outerHTML.replace(/data-generation="\\d+"/, '') !== old.replace(/data-generation="\\d+"/, '');
        }""", arg=[before_generation, before_svg], timeout=timeout_ms)


def press_toward_room(page, s) -> None:
    """Focus a slider's handle and press the arrow key that moves it (left at the maximum)."""
    handle = s.locator(".noUi-handle")
    now, top = float(handle.get_attribute("aria-valuenow")), float(handle.get_attribute("aria-valuemax"))
    handle.focus()
    page.keyboard.press("ArrowLeft" if now >= top else "ArrowRight")


def slider(page, label: str):
    # inside the dashboard (.fl-lab): notebook 06 has another panel, with its own "clients K", above it
    return page.locator(".fl-lab .widget-slider").filter(has=page.locator(".widget-label", has_text=label)).first


@pytest.fixture(scope="module")
def lab_page(lab_server, browser):
    """Notebook 06 opened and run once; the tests below share it (each sets what it needs)."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    open_notebook(page, lab_server, "06_interactive_lab.ipynb")
    run_all(page)
    wait_for_widgets(page)
    page.locator(".fl-lab-status").first.wait_for()
    yield page
    shut_down_kernel(page)
    context.close()


def choose_preset(page, label: str) -> None:
    presets = page.locator(".fl-lab .widget-dropdown").filter(has=page.locator("label", has_text="preset")).first
    before_g = generation(page)
    presets.locator("select").select_option(label=label)
    page.wait_for_function("(g) => Number(document.querySelector('.fl-lab-status').dataset.generation) > g",
                           arg=before_g, timeout=30000)


def test_every_control_redraws_and_is_fast(lab_page):
    page = lab_page
    choose_preset(page, "article defaults: 10 IID clients, FedAvg")
    timings = {}
    for label in SLIDERS:
        s = slider(page, label)
        if "mod-disabled" in (s.get_attribute("class") or "") or s.locator(".noUi-target[disabled]").count():
            continue  # enabled for another algorithm; checked below
        before_g, before_src = generation(page), image_src(page)
        readout_before = s.locator(".widget-readout").inner_text()
        t0 = time.perf_counter()
        press_toward_room(page, s)
        wait_for_redraw(page, before_g, before_src)
        timings[label] = time.perf_counter() - t0
        assert s.locator(".widget-readout").inner_text() != readout_before, f"{label}: value did not move"
    for label, option in DROPDOWNS.items():
        before_g, before_src = generation(page), image_src(page)
        dropdown = page.locator(".fl-lab .widget-dropdown").filter(has=page.locator("label", has_text=label)).first
        t0 = time.perf_counter()
        dropdown.locator("select").select_option(label=option)
        wait_for_redraw(page, before_g, before_src)
        timings[label] = time.perf_counter() - t0
    # the controls that were disabled for FedAvg are enabled now (FedAvgM: beta; Dirichlet: alpha)
    for label in ("server momentum β", "Dirichlet α"):
        s = slider(page, label)
        assert s.locator(".noUi-target[disabled]").count() == 0, f"{label} should be enabled now"
        before_g, before_src = generation(page), image_src(page)
        t0 = time.perf_counter()
        press_toward_room(page, s)
        wait_for_redraw(page, before_g, before_src)
        timings[label + " (enabled)"] = time.perf_counter() - t0
    ms = sorted(1e3 * t for t in timings.values())
    print("release -> new figure (ms): " + ", ".join(f"{k} {1e3 * v:.0f}" for k, v in timings.items()))
    print(f"median release -> new figure: {statistics.median(ms):.0f} ms over {len(ms)} controls")
    assert len(timings) >= len(SLIDERS) + len(DROPDOWNS) - 2


def test_default_run_redraws_on_every_key(lab_page):
    """Eight key presses, eight new figures (wait_for_redraw fails the test when one does not come). The time each
    took is printed; speed itself is measured in benchmarks/bench_sliders.py, not asserted in a test that shares
    the machine with another worker."""
    page = lab_page
    choose_preset(page, "article defaults: 10 IID clients, FedAvg")
    assert "FedAvg on article: 10 clients" in page.locator(".fl-lab-summary").inner_text()
    s = slider(page, "seed")
    samples = []
    for key in ["ArrowRight", "ArrowLeft"] * 4:
        before_g, before_src = generation(page), image_src(page)
        s.locator(".noUi-handle").focus()
        t0 = time.perf_counter()
        page.keyboard.press(key)
        wait_for_redraw(page, before_g, before_src)
        samples.append(1e3 * (time.perf_counter() - t0))
    median = statistics.median(samples)
    print(f"default settings, release -> redrawn figure: median {median:.0f} ms "
          f"(samples {', '.join(f'{x:.0f}' for x in samples)})")


def test_fast_moves_never_leave_a_stale_figure(lab_page):
    page = lab_page
    s = slider(page, "clients K")
    s.locator(".noUi-handle").focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    target = int(s.locator(".widget-readout").inner_text())
    page.wait_for_function(
        "(k) => { const t = document.querySelector('.fl-lab-summary'); "
        "return t && t.textContent.includes(k + ' clients'); }",
        arg=target, timeout=30000)
    time.sleep(1.5)   # let any queued runs finish: the last one must still be for `target`
    summary = page.locator(".fl-lab-summary").inner_text()
    assert re.search(rf"\b{target} clients\b", summary), summary


def test_diverging_run_is_reported_in_the_page(lab_page):
    page = lab_page
    choose_preset(page, "too high a learning rate: client lr = 10")
    summary = page.locator(".fl-lab-summary").inner_text()
    assert "DIVERGED in round" in summary and "client_learning_rate" in summary
    assert page.locator(".fl-lab-error").count() == 0
