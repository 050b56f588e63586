"""CLI conventions: one JSON object on stdout, one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from causalmmm.cli import main


def run_cli(args, capsys):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_graph_check_json(repo, capsys):
    code, out, err = run_cli(["graph", "check", str(repo / "graphs" / "marketing.dot"), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["ok"] is True and payload["outcome"] == "sales" and payload["n_nodes"] == 10


def test_graph_check_human_text_goes_to_stderr(repo, capsys):
    code, out, err = run_cli(["graph", "check", str(repo / "graphs" / "marketing.yaml")], capsys)
    assert code == 0 and out == "" and err.startswith("ok:")


@pytest.mark.parametrize(
    "body, needle",
    [
        ("digraph g { a [role=spend]; b [role=outcome]; a -> b; b -> a; }", "cycle"),
        ("digraph g { a [role=spend]; a -> ; }", "DOT syntax error"),
        ("digraph g { a [role=sales]; b [role=outcome]; a -> b; }", "unknown role 'sales'"),
    ],
)
def test_graph_errors_are_one_line(tmp_path, capsys, body, needle):
    f = tmp_path / "bad.dot"
    f.write_text(body)
    code, out, err = run_cli(["graph", "check", str(f)], capsys)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err
    assert "Traceback" not in err


def test_missing_file_and_usage_errors(tmp_path, capsys):
    code, out, err = run_cli(["graph", "check", str(tmp_path / "none.dot")], capsys)
    assert code != 0 and "graph file not found" in err and err.count("\n") == 1
    code, out, err = run_cli(["fit"], capsys)
    assert code != 0 and err.startswith("error: ") and err.count("\n") == 1
    code, out, err = run_cli(["no-such-command"], capsys)
    assert code != 0 and err.count("\n") == 1


def test_report_on_a_path_that_is_not_a_run(tmp_path, capsys):
    code, out, err = run_cli(["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")], capsys)
    assert code != 0 and "not a run directory" in err and err.count("\n") == 1 and not (tmp_path / "r.html").exists()


def test_query_on_a_path_that_is_not_a_run(tmp_path, capsys):
    code, out, err = run_cli(["query", str(tmp_path), "--do", "ppc_spend=0"], capsys)
    assert code != 0 and "not a run directory" in err and err.count("\n") == 1


def test_console_script_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "causalmmm.cli", "graph", "check", str(tmp_path / "x.dot")], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_fit_dry_run_prints_equations(repo, tmp_path, capsys, random_frame):
    data = tmp_path / "d.csv"
    random_frame.to_csv(data, index=False)
    code, out, err = run_cli(["fit", str(repo / "graphs" / "marketing.dot"), str(data), "--dry-run"], capsys)
    assert code == 0 and "seo_clicks[t] = intercept" in err
