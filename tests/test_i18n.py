"""fl.set_language: the package's one catalogue is complete and current, and Chinese text renders in figures."""
from __future__ import annotations

import importlib.util
import re
import warnings

import pytest
from helpers import ROOT

import fedlearn_edu as fl
from fedlearn_edu import i18n, style
from fedlearn_edu.widgets import ControlPanel, client_slider, float_slider


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chinese():
    fl.set_language("zh")
    yield
    fl.set_language("en")


def test_every_marked_string_has_a_current_chinese_translation():
    catalogue_tool = _tool("package_catalogue")
    assert catalogue_tool.problems() == []
    assert len(list(catalogue_tool.template())) >= 20


def test_translations_keep_every_placeholder():
    for english, chinese_text in i18n.catalogue("zh").items():
        assert sorted(re.findall(r"{\w*}", english)) == sorted(re.findall(r"{\w*}", chinese_text)), english
        # Chinese text, unless the string is only names and symbols kept as they are ("FedProx μ")
        assert (re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", chinese_text) or chinese_text == english
                or not re.search(r"[A-Za-z]{3,}", english)), english


def test_the_language_switches_and_bad_input_is_named(chinese):
    assert fl.get_language() == "zh" and fl.tr("reset") == "重置"
    assert fl.tr("a sentence nobody translated") == "a sentence nobody translated"
    fl.set_language("en")
    assert fl.get_language() == "en" and fl.tr("reset") == "reset"
    with pytest.raises(ValueError, match="language must be one of"):
        fl.set_language("fr")
    assert i18n.N_("clients K") == "clients K"


def test_check_verdicts_speak_chinese_with_the_same_numbers(chinese, capsys):
    fl.check(True, "x", measured=0.8854, expected="≥ 0.85")
    fl.check(lambda: 1 / 0, "y")
    assert capsys.readouterr().out.splitlines() == ["✔ x：实测 0.8854，预期 ≥ 0.85",
                                                    "✘ y：无法检查（ZeroDivisionError: division by zero）"]


def test_a_verdict_expecting_words_says_them_in_chinese(chinese, capsys):
    """A notebook's ``expected="increasing"`` (constant words in its code) is in the catalogue and shown translated;
    numbers and symbols in it stay; words the catalogue lacks are shown as written."""
    fl.check(True, "x", measured=[9, 11, 16], expected="increasing")
    fl.check(False, "x", measured=1.5, expected="< 2x (the paper: 34.8x)")
    fl.check(True, "x", expected="words no notebook uses")
    assert capsys.readouterr().out.splitlines() == ["✔ x：实测 [9, 11, 16]，预期 递增",
                                                    "✘ x：实测 1.5，预期 < 2 倍（论文：34.8 倍）",
                                                    "✔ x：预期 words no notebook uses"]


def test_a_panel_speaks_chinese_but_its_values_stay_the_same(chinese):
    controls = dict(clients=client_slider(10), rate=float_slider(0.5, 0.0, 1.0, "client learning rate"))
    panel = ControlPanel(lambda clients, rate: clients * rate, controls, presets={"(custom)": {}}, run_now=False)
    assert controls["clients"].description == "客户端数 K" and controls["rate"].description == "客户端学习率"
    assert panel.reset_button.description == "重置" and panel.preset.description == "预设"
    assert panel.preset.options[0] == ("（自定义）", "(custom)") and panel.preset.value == "(custom)"
    panel.apply(clients=20)
    assert panel.last_result == 10.0 and "用时" in panel.busy.value
    assert "已改动：客户端数 K 10 → 20" in panel.summary.value


def test_chinese_figure_text_renders_without_missing_glyphs(chinese):
    if not style.available_cjk_fonts():
        pytest.skip("no CJK font here (.ci/run installs Debian's fonts-noto-cjk)")
    plt = style.pyplot()
    fig, ax = plt.subplots()
    ax.set(title="测试准确率（每轮）", xlabel="轮 t", ylabel="准确率 η_l")
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # matplotlib warns "Glyph ... missing from font(s)"
        fig.canvas.draw()
    plt.close(fig)


def test_without_a_cjk_font_figures_stay_english_with_one_warning(monkeypatch):
    monkeypatch.setattr(style, "available_cjk_fonts", lambda: [])
    with pytest.warns(UserWarning, match="figure labels stay in English"):
        fl.set_language("zh")
    try:
        assert fl.tr("reset") == "重置" and i18n.tr_figure("reset") == "reset"
    finally:
        fl.set_language("en")


def test_the_cjk_fonts_come_after_the_latin_font(chinese):
    import matplotlib as mpl
    if not style.available_cjk_fonts():
        pytest.skip("no CJK font here")
    families = mpl.rcParams["font.sans-serif"]
    assert families[0] not in style.CJK_FONTS and families[1] == style.available_cjk_fonts()[0]


def test_the_command_line_speaks_chinese_when_asked(capsys, monkeypatch):
    from fedlearn_edu import cli
    monkeypatch.delenv("FEDLEARN_EDU_LANGUAGE", raising=False)
    try:
        with pytest.raises(SystemExit):
            cli.main(["--language", "zh", "run", "--help"])
        assert "客户端学习率（> 0）" in capsys.readouterr().out
        assert cli.main(["--language", "zh", "run", "--rounds", "2", "--quiet"]) == 0
        assert "完成了 2 轮" in capsys.readouterr().out
        monkeypatch.setenv("FEDLEARN_EDU_LANGUAGE", "zh")
        with pytest.raises(SystemExit):
            cli.main(["run", "--help"])
        assert "通信轮数" in capsys.readouterr().out
    finally:
        fl.set_language("en")
    monkeypatch.delenv("FEDLEARN_EDU_LANGUAGE")
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "client learning rate (> 0)" in capsys.readouterr().out
