# Gai & Zhang, Sec. 4 (eq. 33-35, Fig. 1): the s score of a two-layer network during training.
#
# One compute job per (d, optimizer) trains every configured activation, each batched over its runs:
# torch costs ~2 s to import, so 36 single-(d, activation, optimizer) jobs would spend more time
# importing than training at the default scale. Each job still writes one trace CSV per activation,
# and its settings hold only what it reads, so e.g. changing gz.sscore.lr.gd reruns only the GD jobs.

GZ_SS = GZ["sscore"]
GZ_SS_TRACE = "results/gz/sscore/trace_d{d}_{activation}_{optimizer}.csv"
GZ_SS_FIG1_TRACES = expand(
    GZ_SS_TRACE,
    d=GZ_SS["dims"],
    activation=GZ_SS["activations"],
    optimizer=[GZ_SS["fig1_optimizer"]],
)
GZ_SS_TRACES = expand(
    GZ_SS_TRACE,
    d=GZ_SS["dims"],
    activation=GZ_SS["activations"],
    optimizer=GZ_SS["optimizers"],
)


localrules:
    gz_sscore_provenance,
    fig_gz_fig1_sscore,
    fig_gz_sscore_optimizer_sensitivity,
    table_gz_sscore_final,


rule gz_sscore_train:
    """Minimise ||Y1 - Y2 s(W1 X2)^-1 s(W1 X1)||_F^2 over W1 for every activation; trace of s (eq. 35)."""
    input:
        problems="data/gz/problems_d{d}.npz",
        code=code("gz_sscore_train.py"),
    output:
        traces=expand(
            "results/gz/sscore/trace_d{{d}}_{activation}_{{optimizer}}.csv",
            activation=GZ_SS["activations"],
        ),
        provenance="results/gz/sscore/provenance/train_d{d}_{optimizer}.json",
    params:
        # the fields of nnmat.gz.sscore.TrainSettings; lr is picked per optimizer
        settings=lambda wc: settings_for(
            "gz/sscore.py",
            "TrainSettings",
            GZ_SS,
            seed=SEED,
            d=int(wc.d),
            optimizer=wc.optimizer,
            lr=GZ_SS["lr"][wc.optimizer],
        ),
    wildcard_constraints:
        d=r"\d+",
        optimizer="|".join(GZ_SS["optimizers"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/gz/sscore/train_d{d}_{optimizer}.log",
    benchmark:
        "results/benchmarks/gz/sscore/train_d{d}_{optimizer}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("gz_sscore_train.py") + "{input.problems:q} --settings {params.settings:q} "
        "--out {output.traces:q} --threads {threads} --provenance {output.provenance:q} > {log:q} 2>&1"


rule gz_sscore_provenance:
    """The stage's provenance: every training job's JSON merged into one file."""
    input:
        jobs=expand(
            "results/gz/sscore/provenance/train_d{d}_{optimizer}.json",
            d=GZ_SS["dims"],
            optimizer=GZ_SS["optimizers"],
        ),
        code=code("provenance_merge.py"),
    output:
        "results/gz/sscore/provenance.json",
    log:
        "logs/gz/sscore/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("provenance_merge.py") + "{input.jobs:q} --stage sscore --out {output:q} > {log:q} 2>&1"


rule fig_gz_fig1_sscore:
    """Fig. 1: s during training, Sigmoid (left) and ReLU (right), one curve per d."""
    input:
        traces=GZ_SS_FIG1_TRACES,
        code=code("plot_gz_fig1.py"),
    output:
        report_figure("gz_fig1_sscore", category="Gai & Zhang", caption="gz_fig1_sscore.rst"),
    params:
        settings=settings(GZ_SS, [], optimizer=GZ_SS["fig1_optimizer"]),
    log:
        "logs/gz/figures/gz_fig1_sscore.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_fig1.py") + "{input.traces:q} --settings {params.settings:q} "
        "--out {output:q} > {log:q} 2>&1"


rule table_gz_sscore_final:
    """Final s per (d, activation, optimizer): quantiles over runs and failure counts."""
    input:
        traces=GZ_SS_TRACES,
        code=code("table_gz_sscore_final.py"),
    output:
        table("gz_sscore_final"),
    log:
        "logs/gz/tables/gz_sscore_final.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_gz_sscore_final.py") + "{input.traces:q} --out {output:q} > {log:q} 2>&1"


rule fig_gz_sscore_optimizer_sensitivity:
    """Final s against d for each activation, GD against Adam (the paper names no optimizer)."""
    input:
        table="results/tables/gz_sscore_final.csv",
        code=code("plot_gz_sscore_sensitivity.py"),
    output:
        report_figure(
            "gz_sscore_optimizer_sensitivity",
            category="Gai & Zhang",
            caption="gz_sscore_optimizer_sensitivity.rst",
        ),
    log:
        "logs/gz/figures/gz_sscore_optimizer_sensitivity.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_gz_sscore_sensitivity.py") + "{input.table:q} --out {output:q} > {log:q} 2>&1"


GZ_SS_FIGURES = figure("gz_fig1_sscore") + figure("gz_sscore_optimizer_sensitivity")
GZ_SS_TABLES = table("gz_sscore_final")
GZ_SS_PROVENANCE = ["results/gz/sscore/provenance.json"]

GZ_FIGURES += GZ_SS_FIGURES
GZ_TABLES += GZ_SS_TABLES
GZ_RESULTS += GZ_SS_PROVENANCE
GZ_EVIDENCE += GZ_SS_TRACES + [t for t in GZ_SS_TABLES if t.endswith(".csv")]
GZ_PROVENANCE += GZ_SS_PROVENANCE
