"""llm_course.environment: the environment check and the peak-memory report."""

from __future__ import annotations

import resource

import pytest

from llm_course import environment


def test_check_environment_names_every_missing_package():
    with pytest.raises(ImportError, match="no_such_package_a, no_such_package_b"):
        environment.check_environment(required=("torch", "no_such_package_a", "no_such_package_b"))


def test_check_environment_describes_torch():
    import torch

    info = environment.check_environment(required=("torch",))
    assert info["torch"] == torch.__version__
    assert info["device"].split()[0] in {"cpu", "cuda", "mps"}


def test_peak_memory_agrees_with_the_operating_system():
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB
    assert environment.peak_memory_mb() == pytest.approx(kilobytes / 1024, rel=0.05)


def test_check_peak_memory_fails_above_the_limit(capsys):
    with pytest.raises(MemoryError, match="above the limit of 1 MB"):
        environment.check_peak_memory(limit_mb=1)
    assert environment.check_peak_memory(limit_mb=1e9) > 0
    assert "peak memory of this kernel" in capsys.readouterr().out
