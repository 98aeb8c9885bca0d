"""Score one paper's claims (config/claims/<paper>.yaml) against this run's CSVs (+ Markdown).

    python scripts/claims_report.py --paper gz --claims config/claims/gz.yaml --config-json '{...}' \
        --out results/claims/gz.csv --markdown results/tables/claims_gz.md EVIDENCE.csv ...

Only the evidence files given on the command line (the rule's inputs: this config's outputs) are
considered, so a stale CSV left by an earlier config can never vouch for a claim.
"""

from __future__ import annotations

import json
import logging

from nnmat import claims, cli, io, report

log = logging.getLogger("nnmat.claims")


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("evidence", nargs="*", help="CSV files produced by this run")
    p.add_argument("--paper", required=True, choices=[paper.key for paper in report.PAPERS])
    p.add_argument("--claims", required=True, help="config/claims/<paper>.yaml")
    p.add_argument("--config-json", required=True, help="the resolved pipeline config, as JSON")
    p.add_argument("--out", required=True, help="results/claims/<paper>.csv")
    p.add_argument("--markdown", required=True, help="Markdown scorecard")
    args = p.parse_args(argv)
    cli.setup_logging()
    config = json.loads(args.config_json)
    params = {"paper": args.paper, "claims": args.claims, "n_evidence": len(args.evidence)}
    with cli.stage("claims", params, args.provenance):
        spec = (io.read_yaml(args.claims) or {}).get("claims") or []
        strays = [c.get("id") for c in spec if not str(c.get("id", "")).startswith(f"{args.paper}_")]
        if strays:
            raise claims.ClaimSpecError(f"{args.claims}: ids not prefixed {args.paper}_: {strays}")
        scores = claims.score_all(spec, args.evidence, io.read_csv, config)
        for row in scores.itertuples():
            log.info("%-40s %-20s %s", row.id, row.verdict, row.reason)
        io.write_csv(scores, args.out)
        io.write_text(claims.to_markdown(scores), args.markdown)


if __name__ == "__main__":
    main()
