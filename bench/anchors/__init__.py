"""Current anchors (pymc-marketing 1.3, pathmc 0.4, Meridian 2.1), each in its own cached venv.

    python -m bench.anchors.envs install [--only pymc-marketing]   # build the venvs (bench/.anchors/)
    python -m bench.anchors.envs status

:mod:`bench.anchors.envs` builds the venvs; ``runner_*.py`` run *inside* an anchor's venv
(they import only that anchor's packages); :mod:`bench.anchors.run` drives them from ours.
"""
