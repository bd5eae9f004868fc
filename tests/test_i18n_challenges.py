"""Notebooks 07 and 07b's panels speak Chinese with the same numbers, and their English stays byte for byte what it
was before the strings were translated (the expectations below were printed by the untranslated code); the class
names of breast cancer, the Flower deployment's command line and the notebooks' ``what=`` strings are in the
catalogue too."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from helpers import ROOT  # noqa: E402

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu import i18n, style  # noqa: E402
from fedlearn_edu.widgets import challenges as ch  # noqa: E402
from fedlearn_edu.widgets.tables import columns  # noqa: E402

#: notebook 07's lab callback, two settings: a too-large η_l (one run diverges), then the defaults (one run never
#: reaches 90% in 12 rounds)
LAB_SETTINGS = (dict(client_learning_rate=3.0, rounds=12), dict(rounds=12))
LAB_ENGLISH = """\
FedAvg, K=20 clients, C=0.50 -> m=10 per round, E=2, η_l=3, η_g=1, seed 0: 0.385 MB per round
IID        final accuracy 0.194; 90%: never reached
Dir(0.05)  DIVERGED in round 11: lower the client learning rate
FedAvg, K=20 clients, C=0.50 -> m=10 per round, E=2, η_l=0.1, η_g=1, seed 0: 0.385 MB per round
IID        final accuracy 0.925; 90%: round  9, 3.46 MB
Dir(0.05)  final accuracy 0.853; 90%: never reached
"""
LAB_CHINESE = """\
FedAvg，K=20 个客户端，C=0.50 -> 每轮 m=10 个，E=2，η_l=3，η_g=1，种子 0：每轮 0.385 MB
IID        最终准确率 0.194；90%：未达到
Dir(0.05)  第 11 轮发散：请调低客户端学习率
FedAvg，K=20 个客户端，C=0.50 -> 每轮 m=10 个，E=2，η_l=0.1，η_g=1，种子 0：每轮 0.385 MB
IID        最终准确率 0.925；90%：第  9 轮，3.46 MB
Dir(0.05)  最终准确率 0.853；90%：未达到
"""

#: notebook 07b's stragglers (shards, E = 5, 10 rounds, one seed) and participation (Dir(0.3), E = 2)
STRAGGLERS_ENGLISH = """\
50% of devices are 3x slower; full work 15 steps, a straggler finishes 5 by the deadline
policy               clients  steps  rounds time units      MB  settled
wait for all              20     15       4         12    3.08    0.803
drop stragglers           10     15       5          5    1.92    0.767
accept partial work       20      5       5          5    3.85    0.724
"""
STRAGGLERS_CHINESE = """\
50% 的设备慢 3 倍；完整工作 15 步，掉队者在截止时间前完成 5 步
策略                 客户端数   步数    轮数   时间单位      MB     稳定
等待全部                   20     15       4         12    3.08    0.803
丢弃掉队者                 10     15       5          5    1.92    0.767
接受部分工作               20      5       5          5    3.85    0.724
"""
PARTICIPATION_ENGLISH = """\
medians over seeds, target 90%
    C   m  MB/round  rounds       MB  jitter  settled
 0.10   2     0.077     >10    never   0.016    0.698
 1.00  20     0.770       7     5.39   0.008    0.823
"""
PARTICIPATION_CHINESE = """\
各种子的中位数，目标 90%
    C   m     MB/轮    轮数       MB    抖动     稳定
 0.10   2     0.077     >10   未达到   0.016    0.698
 1.00  20     0.770       7     5.39   0.008    0.823
"""


@pytest.fixture
def chinese():
    fl.set_language("zh")
    yield
    fl.set_language("en")


@pytest.fixture(scope="module")
def digits():
    return fl.cached_dataset("digits")


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


def _lab(capsys, digits) -> tuple[str, list]:
    """What the lab prints for :data:`LAB_SETTINGS`, and the texts of its last figure."""
    for settings in LAB_SETTINGS:
        ch.show_challenge_lab(**settings, data=digits)
    figure = plt.gcf()
    texts = [figure._suptitle.get_text()] + [t for ax in figure.axes for t in (ax.get_title(), ax.get_xlabel())]
    plt.close("all")
    return capsys.readouterr().out, texts


def _07b(capsys, digits) -> str:
    shards = fl.FLConfig(n_clients=20, fraction=0.5, local_epochs=5, rounds=10, dataset="digits", partition="shards")
    ch.show_stragglers(digits, shards, straggler_share=0.5, slowdown=3, seeds=(0,), target=0.8)
    ch.show_participation(digits, shards.replace(local_epochs=2, partition="dirichlet", alpha=0.3),
                          fractions=(0.1, 1.0), seeds=(0,), target=0.9)
    plt.close("all")
    return capsys.readouterr().out


def test_the_07_lab_prints_the_same_english(capsys, digits):
    out, figure = _lab(capsys, digits)
    assert out == LAB_ENGLISH
    assert figure == ["FedAvg on IID and on Dirichlet(α_D = 0.05) data, seed 0", "accuracy per round", "round",
                      "accuracy per megabyte", "MB communicated"]


def test_the_07_lab_speaks_chinese_with_the_same_numbers(chinese, capsys, digits):
    out, figure = _lab(capsys, digits)
    assert out == LAB_CHINESE
    assert _numbers(out) == _numbers(LAB_ENGLISH)
    if style.available_cjk_fonts():            # figure text is Chinese only where a CJK font draws it
        assert figure == ["FedAvg：IID 数据与狄利克雷（α_D = 0.05）数据，种子 0", "准确率随轮数的变化", "轮",
                          "准确率随通信量的变化", "通信量（MB）"]


def test_the_07b_tables_print_the_same_english(capsys, digits):
    assert _07b(capsys, digits) == STRAGGLERS_ENGLISH + PARTICIPATION_ENGLISH


def test_the_07b_tables_speak_chinese_and_stay_aligned(chinese, capsys, digits):
    out = _07b(capsys, digits)
    assert out == STRAGGLERS_CHINESE + PARTICIPATION_CHINESE
    assert _numbers(out) == _numbers(STRAGGLERS_ENGLISH + PARTICIPATION_ENGLISH)
    for table in (STRAGGLERS_CHINESE, PARTICIPATION_CHINESE):      # every row as wide as the header, in columns
        header, *rows = table.splitlines()[1:]
        assert {columns(row) for row in rows} == {columns(header)}


def test_the_lab_panels_offer_their_presets_in_chinese(chinese):
    controls = dict(alpha=fl.widgets.log_value_slider(0.05, 0.01, 100.0, "Dirichlet concentration α_D"),
                    local_epochs=fl.widgets.int_slider(2, 1, 10, "local epochs E"),
                    fraction=fl.widgets.float_slider(0.5, 0.05, 1.0, "fraction C"),
                    n_clients=fl.widgets.client_slider(20, min=2, max=100),
                    client_learning_rate=fl.widgets.log_value_slider(0.1, 0.001, 10.0, "client learning rate η_l"))
    panel = fl.widgets.ControlPanel(ch.show_challenge_lab, controls, presets=ch.presets_for(controls), run_now=False)
    assert ("极端非独立同分布：α_D = 0.01", "extreme non-IID: α_D = 0.01") in panel.preset.options
    assert ("学习率过大：η_l = 3", "too-large learning rate: η_l = 3") in panel.preset.options
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label, _ in panel.preset.options)
    assert ch.PRESETS["extreme non-IID: α_D = 0.01"] == {"alpha": 0.01}     # the keys stay English


def test_the_keys_stay_english_where_only_the_shown_text_is_translated(chinese):
    assert ch.STRAGGLER_POLICIES == ("wait for all", "drop stragglers", "accept partial work")
    assert ch.partition_spec("shards").label == "shards(2)" and ch.partition_spec("shards").shown() == "分片(2)"
    assert ch.partition_spec(0.05).shown() == "Dir(0.05)" and ch.partition_spec("iid").shown() == "IID"


def test_breast_cancer_class_names_are_marked_and_drawn_translated(chinese):
    from sklearn.datasets import load_breast_cancer

    from fedlearn_edu.data import BREAST_CANCER_CLASS_NAMES
    from fedlearn_edu.plots import plot_label_distribution
    assert tuple(load_breast_cancer().target_names) == BREAST_CANCER_CLASS_NAMES     # the markers match sklearn
    assert fl.load_breast_cancer_dataset().class_names == ("malignant", "benign")    # the data stay English
    ax = plot_label_distribution([[3, 1], [0, 4]], class_names=("malignant", "benign"))
    shown = [t.get_text() for t in ax.get_xticklabels()]
    plt.close("all")
    assert shown == (["恶性", "良性"] if style.available_cjk_fonts() else ["malignant", "benign"])
    ax = plot_label_distribution([[1] * 10], class_names=tuple(str(d) for d in range(10)))
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]      # digits as they are
    plt.close("all")


def test_the_deployment_commands_speak_chinese_and_keep_the_english(chinese):
    from fedlearn_edu.flower.deploy import build_parser, hand_commands
    chinese_lines = hand_commands("/tmp/deployment", 2).splitlines()
    assert chinese_lines[0] == "# 1. SuperLink（终端 1）" and "# 5. 启动运行" in chinese_lines
    assert "同时打印手动输入的命令" in build_parser().format_help()
    fl.set_language("en")
    english_lines = hand_commands("/tmp/deployment", 2).splitlines()
    assert english_lines[0] == "# 1. SuperLink (terminal 1)" and "# 5. the run" in english_lines
    assert "# 3. SuperNode 0 (terminal 2): only its own file, signed with its own key" in english_lines
    assert [line for line in english_lines if not line.startswith("#")] == \
        [line for line in chinese_lines if not line.startswith("#")]              # the commands themselves: same


def test_the_notebooks_what_strings_are_in_the_catalogue():
    import importlib.util
    spec = importlib.util.spec_from_file_location("package_catalogue", ROOT / "tools" / "package_catalogue.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    texts = {text for text, _, _ in tool.notebook_strings()}
    assert "FedAdam's rounds to the target with server learning rate 0.01" in texts        # check_prediction(what=)
    assert "settled" not in texts                          # show_convergence_grid(what="settled") is a choice
    assert {"increasing", "wait the slowest", "shards > IID for all"} <= texts    # fl.check(expected=...) words
    assert i18n.catalogue("zh")["rounds to the target with E = 20 on IID digits"] == \
        "在 IID 的 digits 上 E = 20 时达到目标的轮数"
