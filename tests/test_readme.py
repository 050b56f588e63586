"""The README's Python example runs as written (in a directory holding a simulated world)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO


def readme_python_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "the README has one Python example"
    return blocks[0]


def test_readme_python_block_is_short_with_one_import():
    code = readme_python_block()
    lines = [ln for ln in code.splitlines() if ln.strip()]
    assert len(lines) <= 6 and sum(ln.startswith(("import ", "from ")) for ln in lines) == 1


@pytest.mark.slow
def test_readme_python_block_runs_as_written(tmp_path, monkeypatch, capsys):
    from causalmmm.api import simulate

    simulate("search", tmp_path / "world", seed=0)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_python_block(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "effects on sales" in out and "ROAS" in out and "do(ppc_spend=0)" in out
    import causalmmm as cm

    model = cm.load(tmp_path / "run")
    assert model.spec.outcome == "sales" and {e["name"] for e in model.summary["experiments"]} >= {"ppc_switchback", "social_lift"}
