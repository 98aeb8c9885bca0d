"""Score every claim of config/claims.yaml against this run's CSVs: results/claims.csv (+ Markdown).

    python scripts/claims_report.py --claims config/claims.yaml --config-json '{...}' \
        --out results/claims.csv --markdown results/tables/claims.md EVIDENCE.csv ...

Only the evidence files given on the command line (the report rule's inputs: this config's outputs)
are considered, so a stale CSV left by an earlier config can never vouch for a claim.
"""

from __future__ import annotations

import json
import logging

from nnmat import claims, cli, io

log = logging.getLogger("nnmat.claims")


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("evidence", nargs="*", help="CSV files produced by this run")
    p.add_argument("--claims", required=True, help="config/claims.yaml")
    p.add_argument("--config-json", required=True, help="the resolved pipeline config, as JSON")
    p.add_argument("--out", required=True, help="results/claims.csv")
    p.add_argument("--markdown", required=True, help="Markdown scorecard")
    args = p.parse_args(argv)
    cli.setup_logging()
    config = json.loads(args.config_json)
    with cli.stage("claims", {"claims": args.claims, "n_evidence": len(args.evidence)}, args.provenance):
        spec = io.read_yaml(args.claims) or {}
        scores = claims.score_all(spec.get("claims") or [], args.evidence, io.read_csv, config)
        for row in scores.itertuples():
            log.info("%-40s %-20s %s", row.id, row.verdict, row.reason)
        io.write_csv(scores, args.out)
        io.write_text(claims.to_markdown(scores), args.markdown)


if __name__ == "__main__":
    main()
