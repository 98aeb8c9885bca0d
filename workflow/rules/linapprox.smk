# Ji, Wu & Xi (paper 003) Sec. 5.3, Table 2 and Appendix E: the MLPs against the linear approximation
# (A0 + D)^-1 ~ A0^-1 - A0^-1 D A0^-1. Table 2 on the trained models of the MLP-inversion stage; the
# activation regions and linear programs of the small 4-8-4 model (Tables 4-7); and a sweep that
# retrains on boxes of growing radius (through the inversion stage's scripts) to see where the
# networks stop beating the linear approximation.

LIN = config["linapprox"]
LIN_DIR = "results/linapprox"
LIN_REGIONS = LIN["regions"]
LIN_SWEEP = LIN["radius_sweep"]
LIN_SWEEP_NAMES = [f"{LIN_SWEEP['dataset']}_rf{f:g}" for f in LIN_SWEEP["radius_fractions"]]

LIN_TABLES = table("ji_table2") + table("ji_tables4_7_lp") + table("ji_regions") + table("ji_error_vs_radius")
LIN_FIGURES = (
    figure("ji_linapprox_regions") + figure("ji_linapprox_coefficients") + figure("ji_error_vs_radius")
)
LIN_RESULTS = [f"{LIN_DIR}/provenance.json"]
LIN_PROVENANCE = (
    expand(f"{LIN_DIR}/provenance/table2_{{name}}.json", name=LIN["table2_datasets"])
    + [f"{LIN_DIR}/provenance/regions.json"]
    + expand(f"{LIN_DIR}/provenance/sweep_{{sweep}}.json", sweep=LIN_SWEEP_NAMES)
)


localrules:
    linapprox_provenance,
    table_ji_table2,
    table_ji_tables4_7_lp,
    table_ji_regions,
    table_ji_error_vs_radius,
    fig_ji_linapprox_regions,
    fig_ji_linapprox_coefficients,
    fig_ji_error_vs_radius,


rule linapprox_table2:
    """Table 2 on one test set: linear approximation (1st, 2nd order) and every trained model."""
    input:
        data="data/ji/{name}.npz",
        models=f"{JI_DIR}/models/{{name}}",
    output:
        csv=f"{LIN_DIR}/table2_{{name}}.csv",
        provenance=f"{LIN_DIR}/provenance/table2_{{name}}.json",
    params:
        models=lambda wc: " ".join(ji_models(wc.name)),
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/linapprox/table2_{name}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/linapprox_table2.py --data {input.data:q} --name {wildcards.name} "
            "--models {params.models} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule linapprox_regions:
    """App. E.2: activation patterns of sampled box points, affine maps per region, one LP per region x entry."""
    input:
        data=f"data/ji/{LIN_REGIONS['dataset']}.npz",
        models=f"{JI_DIR}/models/{LIN_REGIONS['dataset']}",
    output:
        regions=f"{LIN_DIR}/regions.csv",
        coefficients=f"{LIN_DIR}/coefficients.csv",
        lp=f"{LIN_DIR}/lp.csv",
        provenance=f"{LIN_DIR}/provenance/regions.json",
    params:
        name=LIN_REGIONS["dataset"],
        models=" ".join(ji_models(LIN_REGIONS["dataset"], archs=["small"])),
        seed=SEED,
        samples=LIN_REGIONS["samples"],
        coef_min_fraction=LIN_REGIONS["coef_min_fraction"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        "logs/linapprox/regions.log",
    benchmark:
        "results/benchmarks/linapprox/regions.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/linapprox_regions.py --data {input.data:q} --name {params.name} "
            "--models {params.models} --seed {params.seed} --samples {params.samples} "
            "--coef-min-fraction {params.coef_min_fraction} --out-regions {output.regions:q} "
            "--out-coefficients {output.coefficients:q} --out-lp {output.lp:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule linapprox_sweep_data:
    """One box of the radius sweep: the base dataset's centre and sizes, another radius."""
    output:
        npz="data/linapprox/{sweep}.npz",
        summary=f"{LIN_DIR}/sweep/data/{{sweep}}_summary.csv",
        samples=f"{LIN_DIR}/sweep/data/{{sweep}}_test_samples.csv",
        provenance=f"{LIN_DIR}/sweep/provenance/data_{{sweep}}.json",
    params:
        name="{sweep}",
        seed=SEED,
        spec=lambda wc: lin_sweep_spec(wc.sweep),
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    log:
        "logs/linapprox/sweep_data_{sweep}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_DATA_SHELL


rule linapprox_sweep_train:
    """The sweep's models for one box (same engine, optimiser and seeds as the inversion stage)."""
    input:
        "data/linapprox/{sweep}.npz",
    output:
        curves=f"{LIN_DIR}/sweep/curves_{{sweep}}.csv",
        final=f"{LIN_DIR}/sweep/final_{{sweep}}.csv",
        models=directory(f"{LIN_DIR}/sweep/models/{{sweep}}"),
        provenance=f"{LIN_DIR}/sweep/provenance/train_{{sweep}}.json",
    params:
        name="{sweep}",
        archs=" ".join(LIN_SWEEP["archs"]),
        steps=LIN_SWEEP["steps"],
        t0_steps=ji_t0_steps(LIN_SWEEP["steps"]),
        log_every=ji_log_every(LIN_SWEEP["steps"]),
        checkpoint=lambda wc: (
            f"{LIN_DIR}/sweep/checkpoints/{wc.sweep}-"
            f"{run_tag(lin_sweep_spec(wc.sweep), LIN_SWEEP, JI_TRAIN, SEED, config.get('device', 'cpu'))}.pt"
        ),
        **JI_TRAIN_PARAMS,
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: JI_TRAIN["threads"]
    resources:
        mem_mb=4000,
        runtime=30 + LIN_SWEEP["steps"] // 500,
        **JI_GPU,
    log:
        "logs/linapprox/sweep_train_{sweep}.log",
    benchmark:
        "results/benchmarks/linapprox/sweep_train_{sweep}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_TRAIN_SHELL


rule linapprox_sweep_eval:
    """Test error of the sweep's models and of the linear approximation on one box."""
    input:
        data="data/linapprox/{sweep}.npz",
        models=f"{LIN_DIR}/sweep/models/{{sweep}}",
    output:
        csv=f"{LIN_DIR}/sweep/table2_{{sweep}}.csv",
        provenance=f"{LIN_DIR}/provenance/sweep_{{sweep}}.json",
    params:
        models=lambda wc: " ".join(
            f"{LIN_DIR}/sweep/models/{wc.sweep}/{arch}_seed{i}.pt"
            for arch in LIN_SWEEP["archs"]
            for i in range(JI_TRAIN["seeds"])
        ),
    wildcard_constraints:
        sweep="|".join(re.escape(s) for s in LIN_SWEEP_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/linapprox/sweep_eval_{sweep}.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/linapprox_table2.py --data {input.data:q} --name {wildcards.sweep} "
            "--models {params.models} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule linapprox_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        LIN_PROVENANCE,
    output:
        f"{LIN_DIR}/provenance.json",
    log:
        "logs/linapprox/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage linapprox --out {output:q} > {log:q} 2>&1"


rule table_ji_table2:
    """Table 2: average absolute test error of the linear approximation and of every architecture."""
    input:
        expand(f"{LIN_DIR}/table2_{{name}}.csv", name=LIN["table2_datasets"]),
    output:
        table("ji_table2"),
    log:
        "logs/tables/ji_table2.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py table2 {input:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_tables4_7_lp:
    """Tables 4-7: per output entry, the LP bound of |network - linear approximation| in each region."""
    input:
        f"{LIN_DIR}/lp.csv",
    output:
        table("ji_tables4_7_lp"),
    log:
        "logs/tables/ji_tables4_7_lp.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py lp {input:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_regions:
    """Per small model: how much data the top regions hold, and their coefficient gaps."""
    input:
        f"{LIN_DIR}/regions.csv",
    output:
        table("ji_regions"),
    log:
        "logs/tables/ji_regions.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py regions {input:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_error_vs_radius:
    """Fitted exponent of the error against the box radius, per method (linear approximation: 2 expected)."""
    input:
        expand(f"{LIN_DIR}/sweep/table2_{{sweep}}.csv", sweep=LIN_SWEEP_NAMES),
    output:
        table("ji_error_vs_radius"),
    log:
        "logs/tables/ji_error_vs_radius.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py radius {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_linapprox_regions:
    """Fraction of the sampled box per activation region of the small model."""
    input:
        f"{LIN_DIR}/regions.csv",
    output:
        report_figure("ji_linapprox_regions", "Ji, Wu & Xi (003)", "ji_linapprox_regions.rst"),
    log:
        "logs/figures/ji_linapprox_regions.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_linapprox.py regions {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_linapprox_coefficients:
    """Affine-map coefficients of the top regions against the linear approximation's."""
    input:
        f"{LIN_DIR}/coefficients.csv",
    output:
        report_figure("ji_linapprox_coefficients", "Ji, Wu & Xi (003)", "ji_linapprox_coefficients.rst"),
    log:
        "logs/figures/ji_linapprox_coefficients.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_linapprox.py coefficients {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_error_vs_radius:
    """Error of the linear approximation and of the retrained networks against the box radius."""
    input:
        expand(f"{LIN_DIR}/sweep/table2_{{sweep}}.csv", sweep=LIN_SWEEP_NAMES),
    output:
        report_figure("ji_error_vs_radius", "Ji, Wu & Xi (003)", "ji_error_vs_radius.rst"),
    log:
        "logs/figures/ji_error_vs_radius.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_linapprox.py radius {input:q} --out {output:q} > {log:q} 2>&1"
