# Ji, Wu & Xi Sec. 5.3, Table 2 and Appendix E: the MLPs against the linear approximation
# (A0 + D)^-1 ~ A0^-1 - A0^-1 D A0^-1. Table 2 on the trained models of ji_inversion.smk; the
# activation regions and linear programs of the small 4-8-4 model (Tables 4-7); and a sweep that
# retrains on boxes of growing radius (through the inversion rules' scripts and shells) to see where
# the networks stop beating the linear approximation. Completes the paper's lists JI_FIGURES,
# JI_TABLES, JI_RESULTS, JI_EVIDENCE and JI_PROVENANCE.
import re

LIN = config["ji"]["linapprox"]
LIN_DIR = "results/ji/linapprox"
LIN_REGIONS = LIN["regions"]
LIN_SWEEP = LIN["radius_sweep"]
LIN_SWEEP_NAMES = [f"{LIN_SWEEP['dataset']}_rf{f:g}" for f in LIN_SWEEP["radius_fractions"]]
LIN_SWEEP_TABLES = expand(f"{LIN_DIR}/sweep/table2_{{sweep}}.csv", sweep=LIN_SWEEP_NAMES)
LIN_JOB_PROVENANCE = (
    expand(f"{LIN_DIR}/provenance/table2_{{name}}.json", name=LIN["table2_datasets"])
    + [f"{LIN_DIR}/provenance/regions.json"]
    + expand(f"{LIN_DIR}/provenance/sweep_{{sweep}}.json", sweep=LIN_SWEEP_NAMES)
)


_LIN_TABLES = table("ji_table2") + table("ji_tables4_7_lp") + table("ji_regions") + table("ji_error_vs_radius")
JI_TABLES += _LIN_TABLES
JI_FIGURES += (
    figure("ji_linapprox_regions") + figure("ji_linapprox_coefficients") + figure("ji_error_vs_radius")
)
JI_RESULTS += [f"{LIN_DIR}/provenance.json"]
JI_EVIDENCE += [t for t in _LIN_TABLES if t.endswith(".csv")]
JI_PROVENANCE += [f"{LIN_DIR}/provenance.json"]


localrules:
    ji_linapprox_provenance,
    table_ji_table2,
    table_ji_tables4_7_lp,
    table_ji_regions,
    table_ji_error_vs_radius,
    fig_ji_linapprox_regions,
    fig_ji_linapprox_coefficients,
    fig_ji_error_vs_radius,


rule ji_linapprox_table2:
    """Table 2 on one test set: linear approximation (1st, 2nd order) and every trained model."""
    input:
        data="data/ji/{name}.npz",
        models=f"{JI_DIR}/models/{{name}}",
        code=code("ji_linapprox_table2.py"),
    output:
        csv=f"{LIN_DIR}/table2_{{name}}.csv",
        provenance=f"{LIN_DIR}/provenance/table2_{{name}}.json",
    params:
        settings=lambda wc: settings({}, dataset=wc.name),
        models=lambda wc: ji_models(wc.name),
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/ji/linapprox/table2_{name}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_linapprox_table2.py") + "--data {input.data:q} --settings {params.settings:q} "
        "--models {params.models:q} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule ji_linapprox_regions:
    """App. E.2: activation patterns of sampled box points, affine maps per region, one LP per region x entry."""
    input:
        data=f"data/ji/{LIN_REGIONS['dataset']}.npz",
        models=f"{JI_DIR}/models/{LIN_REGIONS['dataset']}",
        code=code("ji_linapprox_regions.py"),
    output:
        regions=f"{LIN_DIR}/regions.csv",
        coefficients=f"{LIN_DIR}/coefficients.csv",
        lp=f"{LIN_DIR}/lp.csv",
        provenance=f"{LIN_DIR}/provenance/regions.json",
    params:
        settings=settings(LIN_REGIONS, seed=SEED),
        models=ji_models(LIN_REGIONS["dataset"], archs=["small"]),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        "logs/ji/linapprox/regions.log",
    benchmark:
        "results/benchmarks/ji/linapprox/regions.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_linapprox_regions.py") + "--data {input.data:q} --models {params.models:q} "
        "--settings {params.settings:q} --out-regions {output.regions:q} "
        "--out-coefficients {output.coefficients:q} --out-lp {output.lp:q} "
        "--provenance {output.provenance:q} > {log:q} 2>&1"


rule ji_linapprox_sweep_data:
    """One box of the radius sweep: the base dataset's centre and sizes, another radius."""
    input:
        code=code("ji_data.py"),
    output:
        npz="data/ji/linapprox/{sweep}.npz",
        summary=f"{LIN_DIR}/sweep/data/{{sweep}}_summary.csv",
        samples=f"{LIN_DIR}/sweep/data/{{sweep}}_test_samples.csv",
        provenance=f"{LIN_DIR}/sweep/provenance/data_{{sweep}}.json",
    params:
        settings=lambda wc: lin_sweep_settings(wc.sweep),
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    log:
        "logs/ji/linapprox/sweep_data_{sweep}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_DATA_SHELL


rule ji_linapprox_sweep_train:
    """The sweep's models for one box (same engine, optimiser and seeds as the inversion stage).

    A killed job resumes from its checkpoint in results/ji/linapprox/sweep/checkpoints (see ji_train).
    """
    input:
        data="data/ji/linapprox/{sweep}.npz",
        code=code("ji_train.py"),
    output:
        curves=f"{LIN_DIR}/sweep/curves_{{sweep}}.csv",
        final=f"{LIN_DIR}/sweep/final_{{sweep}}.csv",
        models=directory(f"{LIN_DIR}/sweep/models/{{sweep}}"),
        provenance=f"{LIN_DIR}/sweep/provenance/train_{{sweep}}.json",
    params:
        settings=lambda wc: ji_train_settings(wc.sweep, LIN_SWEEP["archs"], LIN_SWEEP["steps"]),
        checkpoint_dir=f"{LIN_DIR}/sweep/checkpoints",
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: JI_TRAIN["threads"]
    resources:
        mem_mb=declared_mem_mb(
            ji_train_bytes(
                {**JI_DATASETS[LIN_SWEEP["dataset"]], "archs": LIN_SWEEP["archs"]},
                JI_TRAIN["seeds"],
                JI_TRAIN["batch_size"],
            ),
            4000,
        ),
        runtime=30 + LIN_SWEEP["steps"] // 500,
        **JI_GPU,
    log:
        "logs/ji/linapprox/sweep_train_{sweep}.log",
    benchmark:
        "results/benchmarks/ji/linapprox/sweep_train_{sweep}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_TRAIN_SHELL


rule ji_linapprox_sweep_eval:
    """Test error of the sweep's models and of the linear approximation on one box."""
    input:
        data="data/ji/linapprox/{sweep}.npz",
        models=f"{LIN_DIR}/sweep/models/{{sweep}}",
        code=code("ji_linapprox_table2.py"),
    output:
        csv=f"{LIN_DIR}/sweep/table2_{{sweep}}.csv",
        provenance=f"{LIN_DIR}/provenance/sweep_{{sweep}}.json",
    params:
        settings=lambda wc: settings({}, dataset=wc.sweep),
        models=lambda wc: ji_model_files(
            f"{LIN_DIR}/sweep/models/{wc.sweep}", LIN_SWEEP["archs"], range(JI_TRAIN["seeds"])
        ),
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/ji/linapprox/sweep_eval_{sweep}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_linapprox_table2.py") + "--data {input.data:q} --settings {params.settings:q} "
        "--models {params.models:q} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"


rule ji_linapprox_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        jobs=LIN_JOB_PROVENANCE,
        code=code("provenance_merge.py"),
    output:
        json=f"{LIN_DIR}/provenance.json",
    log:
        "logs/ji/linapprox/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("provenance_merge.py") + "{input.jobs:q} --stage linapprox --out {output.json:q} "
        "> {log:q} 2>&1"


rule table_ji_table2:
    """Table 2: average absolute test error of the linear approximation and of every architecture."""
    input:
        rows=expand(f"{LIN_DIR}/table2_{{name}}.csv", name=LIN["table2_datasets"]),
        code=code("table_ji.py"),
    output:
        table("ji_table2"),
    log:
        "logs/ji/tables/ji_table2.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "table2 {input.rows:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_tables4_7_lp:
    """Tables 4-7: per output entry, the LP bound of |network - linear approximation| in each region."""
    input:
        lp=f"{LIN_DIR}/lp.csv",
        code=code("table_ji.py"),
    output:
        table("ji_tables4_7_lp"),
    log:
        "logs/ji/tables/ji_tables4_7_lp.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "lp {input.lp:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_regions:
    """Per small model: how much data the top regions hold, and their coefficient gaps."""
    input:
        regions=f"{LIN_DIR}/regions.csv",
        code=code("table_ji.py"),
    output:
        table("ji_regions"),
    log:
        "logs/ji/tables/ji_regions.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "regions {input.regions:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_error_vs_radius:
    """Fitted exponent of the error against the box radius, per method (linear approximation: 2 expected)."""
    input:
        rows=LIN_SWEEP_TABLES,
        code=code("table_ji.py"),
    output:
        table("ji_error_vs_radius"),
    log:
        "logs/ji/tables/ji_error_vs_radius.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "radius {input.rows:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_linapprox_regions:
    """Fraction of the sampled box per activation region of the small model."""
    input:
        regions=f"{LIN_DIR}/regions.csv",
        code=code("plot_ji_linapprox.py"),
    output:
        report_figure("ji_linapprox_regions", "Ji, Wu & Xi", "ji_linapprox_regions.rst"),
    log:
        "logs/ji/figures/ji_linapprox_regions.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_linapprox.py") + "regions {input.regions:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_linapprox_coefficients:
    """Affine-map coefficients of the top regions against the linear approximation's."""
    input:
        coefficients=f"{LIN_DIR}/coefficients.csv",
        code=code("plot_ji_linapprox.py"),
    output:
        report_figure("ji_linapprox_coefficients", "Ji, Wu & Xi", "ji_linapprox_coefficients.rst"),
    log:
        "logs/ji/figures/ji_linapprox_coefficients.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_linapprox.py") + "coefficients {input.coefficients:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_error_vs_radius:
    """Error of the linear approximation and of the retrained networks against the box radius."""
    input:
        rows=LIN_SWEEP_TABLES,
        code=code("plot_ji_linapprox.py"),
    output:
        report_figure("ji_error_vs_radius", "Ji, Wu & Xi", "ji_error_vs_radius.rst"),
    log:
        "logs/ji/figures/ji_error_vs_radius.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_linapprox.py") + "radius {input.rows:q} --out {output:q} > {log:q} 2>&1"
