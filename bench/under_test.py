"""The copy of speechgen a bench script runs (`--speechgen DIR`): first on PYTHONPATH, and compiled
first, as an installed package is. Without its bytecode every build would compile the package's
sources again (more so with PYTHONDONTWRITEBYTECODE set), a cost no installed speechgen pays and
the peers, installed by pip, do not pay either."""

from __future__ import annotations

import compileall
import os
from pathlib import Path


def code_env(code: Path | None, env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's) with `code` first on PYTHONPATH, its package compiled."""
    env = dict(os.environ if env is None else env)
    if code is not None:
        compileall.compile_dir(str(code / "speechgen"), quiet=1)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    return env
