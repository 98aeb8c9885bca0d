"""Write the conda env of `snakemake --sdm conda` (workflow/envs/nnmat.yaml) from the CPU lock.

    python requirements/conda_env.py requirements/cpu.txt workflow/envs/nnmat.yaml

requirements/lock.sh runs this after every lock; tests/test_install.py checks that the committed env
file is exactly what this renders from the committed lock. Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"

HEADER = f"""\
# The conda env of `snakemake --sdm conda`. Generated from requirements/cpu.txt by
# requirements/conda_env.py (`make lock`): do not edit by hand.
# conda-forge's Python 3.11 and pip, then every pin of the CPU lock with its hashes (pip checks them),
# torch's CPU build from PyTorch's CPU index. The pins are written out here rather than read with
# `-r <path>` because Snakemake copies this file under .snakemake/conda/ (or --conda-prefix) before
# conda reads it, so a relative path would point elsewhere; and because Snakemake names and rebuilds
# an env by the hash of this file's content, a changed lock rebuilds the env.
# The nnmat library needs no install in the env: jobs run `python <repo>/scripts/<name>.py`, which
# puts scripts/ (and so the nnmat package) first on sys.path.
name: nnmat
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python=3.11
  - pip
  - pip:
      - --extra-index-url {CPU_INDEX}
"""


def lock_entries(text: str) -> list[str]:
    """The requirement lines of a pip lock, continuations joined: `name==version --hash=... ...`."""
    entries: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        continued = line.endswith("\\")
        current = f"{current} {line.rstrip(chr(92)).strip()}".strip()
        if not continued:
            entries.append(" ".join(current.split()))
            current = ""
    if current:
        entries.append(" ".join(current.split()))
    return entries


def render(lock_text: str) -> str:
    """The env file for one lock's text."""
    lines = [HEADER]
    for entry in lock_entries(lock_text):
        if entry.startswith("-"):
            raise ValueError(f"option line in the lock: {entry!r}")
        lines.append(f"      - {entry}\n")
    return "".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lock, out = map(Path, argv)
    out.write_text(render(lock.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
