"""Write config/README.md (the reference of every config key) from config/schema.yaml.

python scripts/config_docs.py [--schema config/schema.yaml] [--out config/README.md]
"""

from __future__ import annotations

from nnmat import cli, io, schema_docs


def main(argv: list[str] | None = None) -> None:
    p = cli.parser(__doc__)
    p.add_argument("--schema", default="config/schema.yaml")
    p.add_argument("--out", default="config/README.md")
    args = p.parse_args(argv)
    io.write_text(schema_docs.to_markdown(io.read_yaml(args.schema)), args.out)


if __name__ == "__main__":
    main()
