"""The self-checking exercises: every solution passes, every stub and named mistake fails, `check` never raises.

Oracles: the solutions in solutions/NN_name.py (written independently of the checks, each passing
on the course's own implementation or PyTorch's), and the named mistakes beside them (log base 2
instead of e, an off-by-one shift, a mask that lets the future through...), which must fail.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from llm_course.exercises import EXERCISES, check

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SCRIPTS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CHECK_CALL = re.compile(r"""check\(\s*["'](\d\d\.\d+)["']""")


def load_solutions(stem: str):
    path = ROOT / "solutions" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOLUTION_MODULES = {
    script.stem: load_solutions(script.stem)
    for script in NOTEBOOK_SCRIPTS
    if (ROOT / "solutions" / f"{script.stem}.py").is_file()
}
IDS = sorted(EXERCISES)


def solution_for(exercise_id: str):
    module = SOLUTION_MODULES.get(EXERCISES[exercise_id].notebook)
    assert module is not None, f"no solutions/{EXERCISES[exercise_id].notebook}.py"
    assert exercise_id in module.SOLUTIONS, (
        f"solutions/{EXERCISES[exercise_id].notebook}.py has no solution to {exercise_id}"
    )
    return module.SOLUTIONS[exercise_id]


def one_line(capsys) -> str:
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, f"check must print exactly one line, printed {lines}"
    return lines[0]


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_solution_passes(exercise_id, capsys):
    assert check(exercise_id, solution_for(exercise_id)) is True
    assert one_line(capsys) == f"✓ {exercise_id} {EXERCISES[exercise_id].title}"


def _raises_not_implemented(*args, **kwargs):
    raise NotImplementedError


def _returns_none(*args, **kwargs):
    return None


def _raises_zero_division(*args, **kwargs):
    return 1 / 0


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize(
    "answer",
    [None, 0, "text", _raises_not_implemented, _returns_none, _raises_zero_division],
    ids=["None", "zero", "a string", "stub raising NotImplementedError", "function returning None", "function raising"],
)
def test_stubs_and_junk_fail_without_raising(exercise_id, answer, capsys):
    assert check(exercise_id, answer) is False
    line = one_line(capsys)
    assert line.startswith(f"✗ {exercise_id} not yet: ") and len(line) > len(f"✗ {exercise_id} not yet: ") + 10


@pytest.mark.parametrize("exercise_id", IDS)
def test_named_mistakes_fail(exercise_id, capsys):
    module = SOLUTION_MODULES[EXERCISES[exercise_id].notebook]
    mistakes = getattr(module, "MISTAKES", {}).get(exercise_id, {})
    assert mistakes, f"{exercise_id} needs at least one named, realistic wrong answer in MISTAKES"
    for name, wrong in mistakes.items():
        assert check(exercise_id, wrong) is False, f"{exercise_id}: the mistake {name!r} passed the check"
        assert one_line(capsys).startswith(f"✗ {exercise_id} not yet: ")


def test_unknown_ids_fail_without_raising(capsys):
    for exercise_id in ("99.1", "7.2", "", None, 7.2):
        assert check(exercise_id, 42) is False
        assert "not yet" in one_line(capsys)


def test_every_solution_has_an_exercise():
    for stem, module in SOLUTION_MODULES.items():
        for exercise_id in module.SOLUTIONS:
            assert exercise_id in EXERCISES, f"solutions/{stem}.py solves {exercise_id}, which is not an exercise"
            assert EXERCISES[exercise_id].notebook == stem


def test_exercise_ids_and_notebooks_agree():
    in_notebooks: dict[str, set[str]] = {
        script.stem: set(CHECK_CALL.findall(script.read_text())) for script in NOTEBOOK_SCRIPTS
    }
    for exercise_id, record in EXERCISES.items():
        assert record.notebook in in_notebooks, f"{exercise_id} belongs to {record.notebook}, which does not exist"
        assert exercise_id in in_notebooks[record.notebook], (
            f"{record.notebook} has no check({exercise_id!r}, ...) cell"
        )
    for stem, ids in in_notebooks.items():
        for exercise_id in ids:
            assert exercise_id in EXERCISES, f"{stem} checks {exercise_id!r}, which is not a registered exercise"
            assert EXERCISES[exercise_id].notebook == stem, (
                f"{stem} checks {exercise_id}, an exercise of another notebook"
            )


def test_enough_exercises():
    per_notebook = {
        script.stem: [i for i, r in EXERCISES.items() if r.notebook == script.stem] for script in NOTEBOOK_SCRIPTS
    }
    assert len(EXERCISES) >= 30
    for stem, ids in per_notebook.items():
        minimum = 3
        assert len(ids) >= minimum, f"{stem} has {len(ids)} checked exercises, fewer than {minimum}"
