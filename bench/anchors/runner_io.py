"""The command line every anchor runner shares (stdlib only: it runs inside each anchor's own venv).

``python runner_X.py JOB.json RESULT.json``: read the job, run it, write the result as JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import warnings
from typing import Any, Callable, Iterator

REQUIRED_KEYS = ("csv", "date_column", "target", "channels")


def load_job(path: str) -> dict[str, Any]:
    """The job file, with the keys every runner reads."""
    with open(path) as fh:
        job = json.load(fh)
    for key in REQUIRED_KEYS:
        if key not in job:
            raise SystemExit(f"job {path}: missing key {key!r}")
    return job


def runner_main(run: Callable[[dict[str, Any]], dict[str, Any]], argv: list[str], script: str) -> int:
    """Run ``run`` on the job file ``argv[0]`` and write its result to ``argv[1]``; 2 on a usage error."""
    if len(argv) != 2:
        print(f"usage: {os.path.basename(script)} JOB.json RESULT.json", file=sys.stderr)
        return 2
    result = run(load_job(argv[0]))
    with open(argv[1], "w") as fh:
        json.dump(result, fh)
    return 0


@contextlib.contextmanager
def quiet(*libraries: str) -> Iterator[None]:
    """Silence the libraries' loggers, warnings and stdout (their progress chatter) inside the block."""
    for name in libraries:
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
