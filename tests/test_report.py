"""REPORT.md builder: choices from config comments, per-paper sections from this run's outputs only."""

from __future__ import annotations

import pandas as pd
import pytest

from nnmat import report

CONFIG = """\
seed: 1          # master seed
gz:
  theorem1:
    dims: [2, 4]    # our choice: small
    rel_tol: 1.0e-8 # issue value
  sscore:
    # Our choice (paper: not given): Adam.
    fig1_optimizer: adam
xia:
  cond:
    ns: [8]         # our choice: tiny
"""


def test_config_choices_are_dotted_and_scoped_to_the_section():
    gz = report.config_choices(CONFIG, "gz")
    assert gz == [
        "`gz.theorem1.dims: [2, 4]` — our choice: small",
        "`gz.sscore.fig1_optimizer: adam` — Our choice (paper: not given): Adam.",
    ]
    assert report.config_choices(CONFIG, "xia") == ["`xia.cond.ns: [8]` — our choice: tiny"]
    assert report.config_choices(CONFIG, "ji") == []


def test_sections_by_paper_and_assembly_marks_papers_not_run():
    claims = pd.DataFrame(
        {
            "id": ["gz_a", "gz_b", "xia_c"], "kind": "paper", "reading": "",
            "null": "constant", "null_value": "1.0",
            "where": "Fig. 1", "statement": "s", "paper_value": "not printed", "our_value": [1.0, 2.0, 3.0],
            "verdict": ["reproduced", "differs", "not checkable here"], "reason": "r",
        }
    )  # fmt: skip
    gz = report.paper_section(
        report.paper("gz"),
        claims[claims["id"].str.startswith("gz_")],
        figures={"gz_fig1_sscore": "caption of fig 1"},
        tables={"gz_table": "# Title\n\n| a |\n|---|\n| 1 |\n"},
        choices=report.config_choices(CONFIG, "gz"),
        provenance={"gz/sscore": {"n_jobs": 2, "wall_s_total": 3.5, "git": {"commit": "abc", "dirty": True}}},
    )
    assert "1 reproduced, 1 differs, 0 not checkable here" in gz
    assert "![gz_fig1_sscore](figures/gz_fig1_sscore.png)" in gz and "caption of fig 1" in gz
    assert "#### Title" in gz and "abc (dirty)" in gz
    text = report.assemble({"gz": gz, "xia": None}, claims[claims["id"].str.startswith("gz_")])
    assert (
        "**Papers run:** gz. **Claims of the papers:** 2: 1 reproduced, 1 differs, 0 not checkable here"
        in text
    )
    assert text.index("## Gai") < text.index("## Xia") < text.index("## Ji") < text.index("## Shyh-Chang")
    for key in ("xia", "ji", "lmd"):
        assert f"Not run yet in this working directory: `snakemake {key}`" in text
    with pytest.raises(KeyError, match="unknown paper"):
        report.paper("relu")


def test_every_caption_is_valid_restructuredtext(repo, default_config):
    """Captions feed `snakemake --report` (RST, Jinja-rendered): a stray |x| is an RST error there."""
    import docutils.core
    import docutils.utils
    import jinja2

    captions = sorted((repo / "workflow" / "report").glob("*.rst"))
    assert captions
    for path in captions:
        text = jinja2.Template(path.read_text()).render(snakemake={"config": default_config})
        # halt on errors (level 3), which `snakemake --report` prints; warnings render fine
        settings = {"report_level": docutils.utils.Reporter.SEVERE_LEVEL + 1, "halt_level": 3}
        try:
            docutils.core.publish_string(text, writer_name="null", settings_overrides=settings)
        except docutils.utils.SystemMessage as err:
            raise AssertionError(f"{path.name}: {err}") from err
