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


# cpu_limit and fit_threads_to_cpu_limit: fake cgroup trees, as Linux lays them out (cgroup v1 and v2).


def _tree(tmp_path, proc_cgroup: str, files: dict[str, str]):
    """A fake /proc/self/cgroup and /sys/fs/cgroup under tmp_path; returns cpu_limit's two arguments."""
    root = tmp_path / "sys_fs_cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    (tmp_path / "cgroup").write_text(proc_cgroup)
    return dict(proc_cgroup=str(tmp_path / "cgroup"), cgroup_root=str(root))


def test_cpu_limit_reads_cgroup_v2_and_takes_the_smallest_limit_above_the_process(tmp_path):
    paths = _tree(tmp_path, "0::/pod/kernel\n", {
        "cgroup.controllers": "cpu memory\n",
        "cpu.max": "max 100000\n",  # the root: no limit
        "pod/cpu.max": "150000 100000\n",  # 1.5 CPUs for the pod
        "pod/kernel/cpu.max": "400000 100000\n",  # 4 CPUs asked below it: the pod's 1.5 still holds
    })
    assert environment.cpu_limit(**paths) == pytest.approx(1.5)


def test_cpu_limit_reads_cgroup_v1_quota_and_period(tmp_path):
    paths = _tree(tmp_path, "5:memory:/x\n4:cpu,cpuacct:/slow\n0::/\n", {
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/slow/cpu.cfs_quota_us": "82500\n",
        "cpu,cpuacct/slow/cpu.cfs_period_us": "100000\n",
    })
    assert environment.cpu_limit(**paths) == pytest.approx(0.825)


def test_cpu_limit_falls_back_to_the_mount_when_the_path_is_the_hosts(tmp_path):
    # In a container without a cgroup namespace, /proc/self/cgroup names the host's folders.
    paths = _tree(tmp_path, "0::/kubepods/burstable/pod123/abc\n", {
        "cgroup.controllers": "cpu\n", "cpu.max": "200000 100000\n"})
    assert environment.cpu_limit(**paths) == pytest.approx(2.0)


def test_cpu_limit_is_none_without_a_limit_or_without_cgroups(tmp_path):
    unlimited = _tree(tmp_path, "0::/\n", {"cgroup.controllers": "cpu\n", "cpu.max": "max 100000\n"})
    assert environment.cpu_limit(**unlimited) is None
    assert environment.cpu_limit(proc_cgroup=str(tmp_path / "missing")) is None  # macOS, Windows
    garbled = _tree(tmp_path / "g", "0::/\n", {"cgroup.controllers": "cpu\n", "cpu.max": "lots\n"})
    assert environment.cpu_limit(**garbled) is None


@pytest.fixture
def threads():
    import torch

    before = torch.get_num_threads()
    yield torch
    torch.set_num_threads(before)


@pytest.mark.parametrize(("limit", "start", "expected"), [(0.825, 2, 1), (1.5, 4, 1), (2.0, 4, 2), (8.0, 2, 2),
                                                          (None, 2, 2), (0.1, 1, 1)])
def test_fit_threads_to_cpu_limit_lowers_threads_to_the_limit_and_never_raises_them(
        threads, monkeypatch, limit, start, expected):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(environment, "cpu_limit", lambda: limit)
    threads.set_num_threads(start)
    assert environment.fit_threads_to_cpu_limit() == expected == threads.get_num_threads()


def test_fit_threads_to_cpu_limit_leaves_an_explicit_omp_num_threads_alone(threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setattr(environment, "cpu_limit", lambda: 0.5)
    threads.set_num_threads(2)
    assert environment.fit_threads_to_cpu_limit() == 2 == threads.get_num_threads()


def test_check_environment_names_the_containers_limit(monkeypatch):
    monkeypatch.setattr(environment, "cpu_limit", lambda: 0.825)
    assert "a container's limit of 0.825 CPUs" in environment.check_environment(required=("torch",))["threads"]


def test_import_llm_course_fits_the_threads_to_the_limit():
    # A fresh interpreter: llm_course.environment is loaded first with a limit of 1.3 CPUs, then
    # `import llm_course` runs the package's __init__, which must lower PyTorch's 2 threads to 1.
    import os
    import subprocess
    import sys
    from pathlib import Path

    import llm_course

    module = Path(llm_course.__file__).parent / "environment.py"
    code = f"""
import importlib.util, sys, torch
torch.set_num_threads(2)
spec = importlib.util.spec_from_file_location("llm_course.environment", {str(module)!r})
environment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(environment)
environment.cpu_limit = lambda: 1.3
sys.modules["llm_course.environment"] = environment
import llm_course
print(torch.get_num_threads())
"""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1"]
