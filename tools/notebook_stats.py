"""What a learner reads in each notebook: prose lines, visible code lines, folded code lines, figures, widgets.

The course's rule (README, "The learner's path"): visible code is at most about 1.5x the prose,
and every notebook has at least one figure. A code cell is *folded* when its source is collapsed
(cell metadata `jupyter.source_hidden: true`, which JupyterLab shows as a one-line bar and the
percent script as `# %% jupyter={"source_hidden": true}`). Lines are non-blank lines: markdown
lines are prose, lines of code cells that are not folded are visible code. A figure is an
`image/png` output; a widget is an output that carries widget state (`application/vnd.jupyter.widget-view+json`).

Usage:
    python tools/notebook_stats.py                 # every notebook, as a table
    python tools/notebook_stats.py notebooks/07_*.ipynb
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class NotebookStats:
    name: str
    prose: int  # non-blank markdown lines
    visible_code: int  # non-blank lines of code cells that are not folded
    folded_code: int  # non-blank lines of folded code cells
    figures: int  # image/png outputs
    widgets: int  # widget outputs

    @property
    def ratio(self) -> float:
        """Visible code lines per prose line."""
        return self.visible_code / max(1, self.prose)


def is_folded(cell: dict) -> bool:
    """Whether a code cell's source is collapsed (plumbing the learner need not read)."""
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False))


def non_blank(source) -> int:
    text = "".join(source) if isinstance(source, list) else source
    return sum(1 for line in text.splitlines() if line.strip())


def notebook_stats(path: Path) -> NotebookStats:
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    stats = NotebookStats(Path(path).stem, 0, 0, 0, 0, 0)
    for cell in cells:
        lines = non_blank(cell["source"])
        if cell["cell_type"] == "markdown":
            stats.prose += lines
        elif cell["cell_type"] == "code":
            if is_folded(cell):
                stats.folded_code += lines
            else:
                stats.visible_code += lines
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                stats.figures += "image/png" in data
                stats.widgets += "application/vnd.jupyter.widget-view+json" in data
    return stats


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print(f"{'notebook':40} {'prose':>6} {'code':>6} {'folded':>7} {'ratio':>6} {'figures':>8} {'widgets':>8}")
    for path in paths:
        s = notebook_stats(path)
        print(
            f"{s.name:40} {s.prose:6d} {s.visible_code:6d} {s.folded_code:7d} {s.ratio:6.2f}"
            f" {s.figures:8d} {s.widgets:8d}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
