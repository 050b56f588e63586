"""Render a report in headless Chromium and save a PNG screenshot (to look at it as a reader would).

Usage: ``python -m causalmmm.report.screenshot report.html -o report.png [--height 10000]``.
Needs Debian's ``chromium`` package (``apt-get install chromium``); nothing else.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from causalmmm.errors import CausalMMMError
from causalmmm.fileio import atomic_write_bytes

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Flags for a headless Chromium on a machine with a closed network (no background connections, no updates).
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_browser() -> str | None:
    """Path of a Chromium-family browser, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def screenshot(html_file: str | Path, output: str | Path, *, width: int = 1200, height: int = 10000, timeout: float = 120.0) -> Path:
    """Screenshot ``html_file`` at ``width``×``height`` CSS pixels into ``output`` (PNG), atomically."""
    browser = find_browser()
    if browser is None:
        raise CausalMMMError("no Chromium browser found", hint="install Debian's chromium package (apt-get install chromium)")
    src = Path(html_file).resolve()
    if not src.is_file():
        raise CausalMMMError("report not found", where=str(src), hint="write it first with 'causalmmm report RUN -o report.html'")
    with tempfile.TemporaryDirectory() as tmp:
        shot = Path(tmp) / "shot.png"
        cmd = [
            browser,
            *HEADLESS_FLAGS,
            "--hide-scrollbars",
            f"--user-data-dir={tmp}/profile",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            src.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if not shot.exists():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CausalMMMError(f"Chromium did not write a screenshot ({last})", where=str(src), hint="check that chromium runs headless here")
        atomic_write_bytes(Path(output), _trim_bottom(shot.read_bytes()))
    return Path(output)


def _trim_bottom(png: bytes, margin: int = 24) -> bytes:
    """Crop the blank space below the page's content (the window is taller than the page)."""
    import io

    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    arr = np.asarray(img)
    rows = np.nonzero((arr < 250).any(axis=(1, 2)))[0]
    if len(rows) == 0:
        return png
    out = io.BytesIO()
    img.crop((0, 0, img.width, min(img.height, int(rows[-1]) + margin))).save(out, format="PNG")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=10000)
    args = ap.parse_args(argv)
    try:
        path = screenshot(args.html, args.output, width=args.width, height=args.height)
    except CausalMMMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
