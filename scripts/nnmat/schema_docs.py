"""Render config/schema.yaml as the Markdown key reference in config/README.md."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def _deref(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a `$ref` to `#/$defs/...` into the node (local keys win)."""
    if "$ref" not in node:
        return dict(node)
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    merged = {**_deref(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}
    if "description" in node and "description" in target:
        merged["description"] = f"{node['description']} ({target['description']})"
    return merged


def _type(node: Mapping[str, Any]) -> str:
    kind = node.get("type", "")
    if kind == "array" and "items" in node:
        item = node["items"]
        inner = item.get("type", "") if isinstance(item, Mapping) else ""
        if isinstance(item, Mapping) and "enum" in item:
            inner = " \\| ".join(map(str, item["enum"]))
        return f"list of {inner}" if inner else "list"
    if "enum" in node:
        return " \\| ".join(map(str, node["enum"]))
    return kind


def _constraints(node: Mapping[str, Any]) -> str:
    parts = []
    labels = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("minItems", "items >="))
    for key, label in labels:
        if key in node:
            parts.append(f"{label} {node[key]}")
    item = node.get("items")
    if isinstance(item, Mapping):
        for key, label in (("minimum", "each >="), ("exclusiveMinimum", "each >"), ("maximum", "each <=")):
            if key in item:
                parts.append(f"{label} {item[key]}")
        if item.get("not", {}).get("const") is not None:
            parts.append(f"each != {item['not']['const']}")
    if node.get("not", {}).get("const") is not None:
        parts.append(f"!= {node['not']['const']}")
    return ", ".join(parts)


def rows(schema: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """(dotted key, type, default, constraints, description) for every leaf and section."""
    defs = schema.get("$defs", {})

    def walk(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str, str, str, str]]:
        for name, child in node.get("properties", {}).items():
            child = _deref(child, defs)
            key = f"{prefix}{name}"
            item = child.get("items")
            if isinstance(item, Mapping) and "$ref" in item:
                child = {**child, "items": _deref(item, defs)}
            if child.get("type") == "object" and "properties" in child:
                yield key, "section", "", "", child.get("description", "")
                yield from walk(child, key + ".")
            else:
                default = json.dumps(child["default"]) if "default" in child else "required"
                yield key, _type(child), default, _constraints(child), child.get("description", "")

    yield from walk(schema, "")


def to_markdown(schema: Mapping[str, Any]) -> str:
    lines = [
        "# Configuration keys",
        "",
        "Generated from `config/schema.yaml` by `python scripts/config_docs.py` (a test keeps it in sync).",
        "Every config is validated against the schema before any job starts; unknown keys are refused.",
        "`config/config.yaml` is the default (minutes on 2 cores), `config/paper.yaml` the papers' scale;",
        "the comments in `config/config.yaml` say which values are our choices where the papers are silent.",
        "",
        "| key | type | default | constraint | description |",
        "|---|---|---|---|---|",
    ]
    for key, kind, default, constraint, desc in rows(schema):
        desc = " ".join(str(desc).split()).replace("|", "\\|")
        key_cell = f"**`{key}`**" if kind == "section" else f"`{key}`"
        lines.append(f"| {key_cell} | {kind} | {default} | {constraint} | {desc} |")
    return "\n".join(lines) + "\n"
