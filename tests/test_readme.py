"""The README's Python example runs as written (in a directory holding a simulated world)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO
from seeds import seeded


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
    from functools import partial

    import causalmmm as cm
    from causalmmm.api import simulate

    simulate("search", tmp_path / "world", seed=seeded(0))
    monkeypatch.chdir(tmp_path)
    # the block calls cm.fit with its default seed (0): shift that default by the test-seed offset
    monkeypatch.setattr(cm, "fit", partial(cm.fit, seed=seeded(0)))
    exec(compile(readme_python_block(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "effects on sales" in out and "ROAS" in out and "do(ppc_spend=0)" in out
    model = cm.load(tmp_path / "run")
    assert model.spec.outcome == "sales" and {e["name"] for e in model.summary["experiments"]} >= {"ppc_switchback", "social_lift"}
