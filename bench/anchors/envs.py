"""Create and cache one venv per anchor under ``bench/.anchors/<name>`` (gitignored).

    python -m bench.anchors.envs install [--only pymc-marketing] [--force]
    python -m bench.anchors.envs status

Each venv gets pinned versions on its own Python (from pyenv). A finished install writes
``installed.json`` (versions, size, install time); a venv without it counts as missing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from causalmmm.errors import CausalMMMError

ROOT = Path(__file__).resolve().parents[1] / ".anchors"
PYENV_VERSIONS = Path.home() / ".pyenv" / "versions"


@dataclass(frozen=True)
class Anchor:
    """One anchor's environment: its Python, its pinned requirements and the packages to report."""

    name: str
    python: str  # pyenv minor version, e.g. "3.12"
    requirements: tuple[str, ...]
    report: tuple[str, ...]  # distributions whose installed versions are recorded
    runner: str  # script (beside this file) that runs inside the venv
    venv: str | None = None  # another anchor whose venv this one runs in (nothing to install)


ANCHORS: dict[str, Anchor] = {
    "pymc-marketing": Anchor(
        "pymc-marketing",
        "3.12",
        ("pymc-marketing==1.3.*", "pathmc==0.4.*", "nutpie"),
        ("pymc-marketing", "pathmc", "pymc", "pytensor", "arviz", "nutpie", "numpy", "pandas", "xarray"),
        "runner_pymc_marketing.py",
    ),
    "meridian": Anchor(
        "meridian",
        "3.12",
        ("google-meridian==2.1.*",),
        ("google-meridian", "tensorflow", "tfp-nightly", "jax", "numpy", "pandas", "arviz"),
        "runner_meridian.py",
    ),
    "pathmc": Anchor("pathmc", "3.12", (), ("pathmc",), "runner_pathmc.py", venv="pymc-marketing"),
}


class AnchorEnvError(CausalMMMError):
    """An anchor's venv is missing or could not be built."""


def venv_dir(name: str) -> Path:
    shared = ANCHORS[name].venv if name in ANCHORS else None
    return ROOT / (shared or name)


def venv_python(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


def manifest(name: str) -> dict | None:
    """What ``install`` recorded for ``name``, or None when the venv is missing or unfinished."""
    path = venv_dir(name) / "installed.json"
    if not path.is_file() or not venv_python(name).is_file():
        return None
    return json.loads(path.read_text())


def anchor(name: str) -> Anchor:
    if name not in ANCHORS:
        raise AnchorEnvError(f"unknown anchor {name!r}", hint=f"choose one of {', '.join(ANCHORS)}")
    return ANCHORS[name]


def require(name: str) -> Path:
    """The anchor's python; a one-line error when its venv has not been installed."""
    anchor(name)
    if manifest(name) is None:
        raise AnchorEnvError(f"the {name} venv is missing ({venv_dir(name)})", hint=f"run python -m bench.anchors.envs install --only {name}")
    return venv_python(name)


def base_python(minor: str) -> Path:
    """The newest pyenv CPython ``minor`` (e.g. 3.12.x)."""
    found = sorted(PYENV_VERSIONS.glob(f"{minor}.*/bin/python"), key=lambda p: tuple(int(x) for x in p.parents[1].name.split(".") if x.isdigit()))
    if not found:
        raise AnchorEnvError(f"no Python {minor} under {PYENV_VERSIONS}", hint=f"install it: pyenv install {minor}")
    return found[-1]


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def installed_versions(python: Path, dists: tuple[str, ...]) -> dict[str, str]:
    code = (
        "import json, sys\nfrom importlib.metadata import version, PackageNotFoundError\nout = {}\n"
        "for d in sys.argv[1:]:\n    try: out[d] = version(d)\n    except PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    res = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def install(name: str, *, force: bool = False) -> dict:
    """Build ``bench/.anchors/<name>`` (unless already installed) and return its manifest."""
    a = anchor(name)
    if a.venv is not None:
        return install(a.venv, force=force)
    if not force and (m := manifest(name)) is not None:
        print(f"{name}: already installed ({venv_dir(name)}); --force to rebuild")
        return m
    target = venv_dir(name)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    base = base_python(a.python)
    t0 = time.perf_counter()
    subprocess.run([str(base), "-m", "venv", str(target)], check=True)
    py = venv_python(name)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, stdout=subprocess.DEVNULL)
    log = target / "pip-install.log"
    with log.open("w") as fh:
        res = subprocess.run([*pip, *a.requirements], stdout=fh, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or ["?"]
        raise AnchorEnvError(
            f"pip install {' '.join(a.requirements)} failed for {name}: {tail[0]}", where=str(log), hint="read the log; the venv is left unfinished"
        )
    info = {
        "name": name,
        "python": subprocess.run(
            [str(py), "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        "requirements": list(a.requirements),
        "versions": installed_versions(py, a.report),
        "install_seconds": round(time.perf_counter() - t0, 1),
        "size_mb": round(_du(target) / 2**20),
    }
    (target / "installed.json").write_text(json.dumps(info, indent=2))
    print(f"{name}: installed in {info['install_seconds']} s, {info['size_mb']} MB: {info['versions']}")
    return info


def status() -> dict[str, dict | None]:
    return {n: manifest(n) for n in ANCHORS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.anchors.envs", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ins = sub.add_parser("install", help="build the anchors' venvs")
    ins.add_argument("--only", nargs="+", choices=list(ANCHORS), help="just these anchors")
    ins.add_argument("--force", action="store_true", help="rebuild even if installed")
    sub.add_parser("status", help="what is installed")
    args = ap.parse_args(argv)
    if args.cmd == "status":
        for n, m in status().items():
            print(f"{n}: " + ("missing" if m is None else f"{m['size_mb']} MB, Python {m['python']}, {m['versions']}"))
        return 0
    failed = []
    for n in args.only or [n for n, a in ANCHORS.items() if a.venv is None]:
        try:
            install(n, force=args.force)
        except (AnchorEnvError, subprocess.CalledProcessError) as exc:
            print(f"{n}: {exc}", file=sys.stderr)
            failed.append(n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
