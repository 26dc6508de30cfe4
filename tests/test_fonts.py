"""Chart fonts: CJK ids drawn in a font that has them, and what no font has said once.

Runs with warnings as errors: matplotlib's "Glyph ... missing from font" would fail it.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from click.testing import CliRunner

from simulator.cli import cli
from simulator.output.fonts import chart_families, unshown_characters

JAPANESE = ["基幹システム刷新", "会計.設計", "開発"]
LINEAR_B = "\U00010000"  # a script no default or CJK font covers


def test_latin_text_keeps_matplotlibs_default_font() -> None:
    assert chart_families(["crm.build", "Café, Ærø, Ωmega"]) is None
    assert unshown_characters(["crm.build"]) == ""


def test_japanese_ids_are_drawn_without_missing_glyphs() -> None:
    families = chart_families(JAPANESE)
    assert families is not None
    assert families[0] == "sans-serif"
    assert unshown_characters(JAPANESE) == ""
    with mpl.rc_context({"font.family": families}):  # no filter: a missing glyph would warn
        fig, ax = plt.subplots()
        ax.set_title(" ".join(JAPANESE))
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)


def test_characters_no_font_has_are_named() -> None:
    assert unshown_characters(["会計", f"a{LINEAR_B}b{LINEAR_B}"]) == LINEAR_B


def test_run_says_once_what_the_charts_cannot_show(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "scenario: 基幹システム刷新\nresources:\n  開発: {capacity: 2}\nprojects:\n"
        f"  - id: 会計\n    tasks:\n      - {{id: 設計{LINEAR_B}, duration: 3, "
        "resources: {開発: 1}}\n      - {id: 構築, duration: 2, after: [設計"
        f"{LINEAR_B}]}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["run", str(path), "-n", "20", "--seed", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "charts cannot show" in line]
    assert notes == [
        f"note: the charts cannot show {LINEAR_B} (no installed font has them): install a "
        "font that does, such as Noto Sans CJK (Debian: fonts-noto-cjk)"
    ]
    assert (tmp_path / "o" / "finish-s-curves.png").is_file()
