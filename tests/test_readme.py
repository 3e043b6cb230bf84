"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no python block"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "0.2517" in out


def test_readme_commands_are_the_ci_commands():
    readme = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && python -m pytest' in readme
    assert "pip install . && dispersionkit demo" in readme
    assert 'pip install --quiet ".[test' in ci
    assert "python -m pytest" in ci
    assert "dispersionkit demo" in ci
