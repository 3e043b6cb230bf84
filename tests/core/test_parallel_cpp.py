"""The thread pool itself (parallel.hpp), from a small C++ program: bounded workers, nested calls
inline, concurrent callers, exceptions and interrupts; once plainly and once under
ThreadSanitizer, which reports any data race in the pool."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.threading

HERE = Path(__file__).parent
SOURCE = HERE / "cpp" / "test_parallel.cpp"
INCLUDE = HERE.parents[1] / "cpp" / "include"
# The compiler and the program run without the sanitizer runtimes CI preloads into Python
# (ASan and TSan cannot share a process).
ENV = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}


def build(tmp_path):
    """The checks built under ThreadSanitizer when the compiler can, plainly otherwise."""
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    binary = tmp_path / "test_parallel"
    for flags in (["-fsanitize=thread"], []):
        command = [compiler, "-std=c++17", "-O1", "-g", "-pthread", "-Wall", "-Wextra", "-Werror", *flags]
        built = subprocess.run(
            [*command, f"-I{INCLUDE}", str(SOURCE), "-o", str(binary)], capture_output=True, text=True, env=ENV
        )
        if built.returncode == 0:
            return binary
    raise AssertionError(built.stderr)


def test_pool_checks_pass(tmp_path):
    run = subprocess.run([str(build(tmp_path))], capture_output=True, text=True, timeout=120, env=ENV)
    report = run.stdout + run.stderr
    assert run.returncode == 0 and "FAIL" not in run.stdout, report
    assert "WARNING: ThreadSanitizer" not in run.stderr, report
    assert "nested run_chunks runs inline" in run.stdout
    assert "at most one worker per core besides the caller" in run.stdout
