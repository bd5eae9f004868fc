"""Numbers in a notebook's prose must come from the notebook.

    python tools/prose_numbers.py              # every notebook: the numbers no cell prints
    python tools/prose_numbers.py 13 14        # only those notebooks

A measurement stated in a notebook's Markdown (an accuracy, a count of rounds, megabytes,
a speed-up, an epsilon) must be printed by one of the same notebook's cells, so that the
prose cannot go stale when the code or the engine changes. ``tests/test_prose_numbers.py``
runs this check over every committed notebook.

What is checked
    every number with a decimal point (0.969, 4.62) and every integer with a unit of
    measure (95%, 35×, 9 rounds, 48 GB, 2 minutes; in a range "97–98%" both ends), in
    Markdown cells, exercise solutions in ``<details>`` included. Code in the Markdown
    (fenced blocks, ``inline code``) and link targets are skipped.

When a number passes
    * an output of the notebook shows it, at the prose's precision: 0.969 printed lets the
      prose say 0.969, 0.97 or 97%; 0.958 printed does not let it say 0.95;
    * it is a setting: a numeric literal of one of the notebook's code cells, or of code in
      its Markdown (a solution's code block, ``inline code``): a learning rate of 0.3, a
      target of 95%;
    * it is quoted: its line is a blockquote (``>``) or cites its source on the same line
      (``McMahan et al. 2017``, ``et al., 2016``);
    * it is an article section number (2.1 ... 4.3, without a unit) or the version of a
      named package (TensorFlow 2.14);
    * it is the notebook's time estimate (a line that starts with ``**Time:**``);
    * it is on the notebook's allow-list, with the reason (see the test).
"""
from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tokenize
from dataclasses import dataclass
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: the article's numbered subsections: "4.1" in prose names a section, not a measurement
SECTION_NUMBERS = {"2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "4.1", "4.2", "4.3"}
#: words after which a number is a version ("TensorFlow 2.14", "Python < 3.12")
VERSION_WORDS = r"(?:Python|TensorFlow|tensorflow|Keras|NumPy|jaxlib|Flower|flwr|version|release|ipywidgets|JupyterLab)"

_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
# a unit right after the number ("95%", "3.5×") or after one space ("9 rounds", "48 GB")
_UNIT = (r"(?:%|×|(?<=\d)x\b|\s?(?:MB|kB|KB|GB|ms)\b"
         r"|\s(?:rounds?|bytes|seconds|minutes|s|times|epochs?|examples|clients|parameters)\b)")
_TOKEN = re.compile(rf"(?<![\w.\-/^_{{])(?P<first>{_NUMBER})(?:\s?[–-]\s?(?P<second>{_NUMBER}))?"
                    rf"(?P<unit>{_UNIT})?(?![\w.]*\d)")
_CITATION = re.compile(r"et al\.?,?\s*\(?\d{4}|\(\d{4}\)|\bquoted\b", re.IGNORECASE)
_VERSION = re.compile(rf"{VERSION_WORDS}\s*[<>=≥≤]*\s*$")


@dataclass(frozen=True)
class ProseNumber:
    """One number as the prose states it."""

    text: str           # as written, e.g. "0.969" or "95%"
    value: float
    decimals: int
    unit: str           # "", "%", "×", "MB", "rounds", ...
    line: str

    @property
    def key(self) -> str:
        """How the allow-list names it: the number and its unit, as written."""
        return self.text + self.unit if self.unit in ("%", "×") else self.text


def _parse(text: str) -> tuple[float, int]:
    plain = text.replace(",", "")
    return float(plain), len(plain.split(".")[1]) if "." in plain else 0


def _markdown_lines(source: str) -> list[str]:
    """The Markdown a student reads, without code, link targets or HTML tags."""
    source = re.sub(r"```.*?```", " ", source, flags=re.S)
    source = re.sub(r"`[^`]*`", " ", source)
    source = re.sub(r"\]\([^)]*\)", "]", source)
    source = re.sub(r"<[^>]+>", " ", source)
    return source.splitlines()


def prose_numbers(markdown: str) -> list[ProseNumber]:
    """Every checked number of a Markdown text that is not quoted, a section or a version."""
    found = []
    for line in _markdown_lines(markdown):
        if line.lstrip().startswith((">", "**Time:**")) or _CITATION.search(line):
            continue
        for match in _TOKEN.finditer(line):
            unit = (match.group("unit") or "").strip()
            unit = {"x": "×", "round": "rounds", "epoch": "epochs"}.get(unit, unit)
            if _VERSION.search(line[:match.start()]):
                continue
            for text in filter(None, (match.group("first"), match.group("second"))):
                value, decimals = _parse(text)
                if text.startswith("0") and decimals == 0:           # "notebook 07"
                    continue
                if not unit and (decimals == 0 or text in SECTION_NUMBERS):
                    continue
                found.append(ProseNumber(text, value, decimals, unit, line.strip()))
    return found


def _output_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        data = out.get("data", {})
        for kind in ("text/markdown", "text/html", "text/plain"):    # what a reader sees
            if kind in data:
                parts.append(unescape(re.sub(r"<[^>]+>", " ", "".join(data[kind]))))
                break
    return "\n".join(parts)


def _code_literals(source: str) -> list[float]:
    """The numeric literals of a code cell (1e-3 included), by Python's tokenizer."""
    values = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NUMBER:
                try:
                    values.append(float(token.string.replace("_", "")))
                except ValueError:
                    pass
    except (tokenize.TokenError, IndentationError, SyntaxError):
        values += [float(t) for t in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", source)]
    return values


@dataclass
class NotebookNumbers:
    """What a notebook prints and sets, to check its prose against."""

    decimals: list[float]       # numbers with a decimal point in its outputs
    integers: set[float]        # integers in its outputs
    percents: set[float]        # integers printed with a % sign
    settings: list[float]       # numeric literals of its code cells

    @classmethod
    def of(cls, notebook: dict) -> "NotebookNumbers":
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        outputs = "\n".join(_output_text(c) for c in code)
        decimals, integers, percents = [], set(), set()
        for match in re.finditer(rf"(?<![\w.])({_NUMBER})(\s?%)?", outputs):
            value, places = _parse(match.group(1))
            (decimals.append(value) if places else integers.add(value))
            if match.group(2):
                percents.add(value)
        settings = [v for c in code for v in _code_literals("".join(c["source"]))]
        for cell in notebook["cells"]:                  # code shown in Markdown (solutions)
            if cell["cell_type"] == "markdown":
                source = "".join(cell["source"])
                for block in re.findall(r"```(?:python)?\n(.*?)```", source, flags=re.S):
                    settings += _code_literals(block)
                source = re.sub(r"```.*?```", " ", source, flags=re.S)
                for span in re.findall(r"`([^`\n]+)`", source):
                    settings += _code_literals(span)
        return cls(decimals, integers, percents, settings)

    def explains(self, number: ProseNumber) -> bool:
        """True when an output shows ``number`` (at its precision) or a code cell sets it."""
        scales = (1.0, 100.0) if number.unit == "%" else (1.0,)
        half = 0.5 * 10.0 ** -number.decimals + 1e-9

        def close(values):
            return any(abs(v * s - number.value) <= half for v in values for s in scales)

        if number.unit == "%" and number.value in self.percents:
            return True
        if close(self.decimals) or close(self.settings):
            return True
        return number.decimals == 0 and number.value in self.integers


def unexplained(path: Path, allowed: dict[str, str] | None = None) -> list[ProseNumber]:
    """The numbers of ``path``'s Markdown that no output shows and no rule lets pass."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    numbers = NotebookNumbers.of(notebook)
    allowed = allowed or {}
    missing = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for number in prose_numbers("".join(cell["source"])):
            if number.key not in allowed and not numbers.explains(number):
                missing.append(number)
    return missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("numbers", nargs="*", help="two-digit notebook numbers (default: all)")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
    if args.numbers:
        paths = [p for p in paths if p.name.split("_")[0] in args.numbers]
    total = 0
    for path in paths:
        missing = unexplained(path)
        total += len(missing)
        print(f"{path.name}: {len(missing)} number(s) no cell prints")
        for number in missing:
            print(f"    {number.key!r:>10}  {number.line[:110]}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
