# Gai & Zhang, Sec. 4 (eq. 33-35, Fig. 1): the s score of a two-layer network during training.
#
# One compute job per (d, optimizer) trains every configured activation, each batched over its runs:
# torch costs ~2 s to import, so 36 single-(d, activation, optimizer) jobs would spend more time
# importing than training at the default scale. Each job still writes one trace CSV per activation,
# and its params hold only what it reads, so e.g. changing gz.sscore.lr.gd reruns only the GD jobs.

SSCORE = GZ["sscore"]
SSCORE_TRACE = "results/sscore/trace_d{d}_{activation}_{optimizer}.csv"
SSCORE_FIG1_TRACES = expand(
    SSCORE_TRACE,
    d=SSCORE["dims"],
    activation=SSCORE["activations"],
    optimizer=[SSCORE["fig1_optimizer"]],
)
SSCORE_TRACES = expand(
    SSCORE_TRACE,
    d=SSCORE["dims"],
    activation=SSCORE["activations"],
    optimizer=SSCORE["optimizers"],
)


localrules:
    sscore_provenance,
    fig_gz_fig1_sscore,
    fig_gz_sscore_optimizer_sensitivity,
    table_gz_sscore_final,


rule sscore_train:
    """Minimise ||Y1 - Y2 s(W1 X2)^-1 s(W1 X1)||_F^2 over W1 for every activation; trace of s (eq. 35)."""
    input:
        "data/gz/problems_d{d}.npz",
    output:
        traces=expand(
            "results/sscore/trace_d{{d}}_{activation}_{{optimizer}}.csv",
            activation=SSCORE["activations"],
        ),
        provenance="results/sscore/provenance/train_d{d}_{optimizer}.json",
    params:
        seed=SEED,
        activations=" ".join(SSCORE["activations"]),
        runs=SSCORE["runs"],
        steps=SSCORE["steps"],
        log_every=SSCORE["log_every"],
        init_std=SSCORE["init_std"],
        max_loss_growth=SSCORE["max_loss_growth"],
        lr=lambda wildcards: SSCORE["lr"][wildcards.optimizer],
    wildcard_constraints:
        d=r"\d+",
        optimizer="|".join(SSCORE["optimizers"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/sscore/train_d{d}_{optimizer}.log",
    benchmark:
        "results/benchmarks/sscore/train_d{d}_{optimizer}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/sscore_train.py {input:q} --d {wildcards.d} "
            "--optimizer {wildcards.optimizer} --activation {params.activations} "
            "--out {output.traces:q} --seed {params.seed} --runs {params.runs} --steps {params.steps} "
            "--log-every {params.log_every} --init-std {params.init_std} --lr {params.lr} "
            "--max-loss-growth {params.max_loss_growth} --threads {threads} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule sscore_provenance:
    """The stage's provenance: every training job's JSON merged into one file."""
    input:
        expand(
            "results/sscore/provenance/train_d{d}_{optimizer}.json",
            d=SSCORE["dims"],
            optimizer=SSCORE["optimizers"],
        ),
    output:
        "results/sscore/provenance.json",
    log:
        "logs/sscore/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage sscore --out {output:q} > {log:q} 2>&1"


rule fig_gz_fig1_sscore:
    """Fig. 1: s during training, Sigmoid (left) and ReLU (right), one curve per d."""
    input:
        SSCORE_FIG1_TRACES,
    output:
        report_figure("gz_fig1_sscore", category="Gai & Zhang", caption="gz_fig1_sscore.rst"),
    params:
        optimizer=SSCORE["fig1_optimizer"],
    log:
        "logs/figures/gz_fig1_sscore.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_fig1.py {input:q} --optimizer {params.optimizer} "
        "--out {output:q} > {log:q} 2>&1"


rule table_gz_sscore_final:
    """Final s per (d, activation, optimizer): quantiles over runs and failure counts."""
    input:
        SSCORE_TRACES,
    output:
        table("gz_sscore_final"),
    log:
        "logs/tables/gz_sscore_final.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_gz_sscore_final.py {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_gz_sscore_optimizer_sensitivity:
    """Final s against d for each activation, GD against Adam (the paper names no optimizer)."""
    input:
        "results/tables/gz_sscore_final.csv",
    output:
        report_figure(
            "gz_sscore_optimizer_sensitivity",
            category="Gai & Zhang",
            caption="gz_sscore_optimizer_sensitivity.rst",
        ),
    log:
        "logs/figures/gz_sscore_optimizer_sensitivity.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_gz_sscore_sensitivity.py {input:q} --out {output:q} > {log:q} 2>&1"


SSCORE_FIGURES = figure("gz_fig1_sscore") + figure("gz_sscore_optimizer_sensitivity")
# The merged provenance rides with the tables so that `rule all` builds it.
SSCORE_TABLES = table("gz_sscore_final") + ["results/sscore/provenance.json"]
