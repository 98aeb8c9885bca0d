"""Merge the per-job provenance JSONs of one stage into results/<stage>/provenance.json.

python scripts/provenance_merge.py --stage expnet --out results/gz/theorem1/provenance.json JOB.json ...
"""

from __future__ import annotations

from pathlib import Path

from nnmat import cli, io, provenance


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("jobs", nargs="+", help="per-job provenance JSON files")
    p.add_argument("--stage", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    jobs = {Path(f).stem: io.read_json(f) for f in args.jobs}
    io.write_json(provenance.merge(args.stage, jobs), args.out)


if __name__ == "__main__":
    main()
