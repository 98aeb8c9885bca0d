# Shyh-Chang, Luo & Qiu (paper 004): Layer Matrix Decomposition of the networks this pipeline trains.
# A theory paper: each construct (layer SVD with absorbed bias, Eckart-Young truncation, latent
# dimension, graph Laplacians of input/latent/output point clouds, metric maps) is turned into a
# measurement on the MLP inverters of the Ji, Wu & Xi stage. One compute job per dataset.

LMD = config["lmd"]
LMD_DIR = "results/lmd"
LMD_OUTPUTS = ("svd", "eckart_young", "truncation", "laplacian", "angles", "metric")
LMD_TABLES = table("lmd_summary") + table("lmd_claims")
LMD_FIGURES = (
    figure("lmd_singular_values")
    + figure("lmd_error_vs_rank")
    + figure("lmd_laplacian_spectra")
    + figure("lmd_principal_angles")
)
LMD_RESULTS = [f"{LMD_DIR}/provenance.json"]


localrules:
    lmd_provenance,
    table_lmd,
    fig_lmd_singular_values,
    fig_lmd_error_vs_rank,
    fig_lmd_laplacian_spectra,
    fig_lmd_principal_angles,


rule lmd_analyse:
    """Layer SVD, Eckart-Young, rank truncation, Laplacians, principal angles and metric maps of one dataset's models."""
    input:
        data="data/ji/{name}.npz",
        models=f"{JI_DIR}/models/{{name}}",
    output:
        **{kind: f"{LMD_DIR}/{kind}_{{name}}.csv" for kind in LMD_OUTPUTS},
        summary=f"{LMD_DIR}/summary_{{name}}.csv",
        provenance=f"{LMD_DIR}/provenance/{{name}}.json",
    params:
        models=lambda wc: " ".join(ji_models(wc.name)),
        seed=SEED,
        points=LMD["points"],
        eval_points=LMD["eval_points"],
        bandwidths=" ".join(repr(float(b)) for b in LMD["bandwidths"]),
        knn=LMD["knn"],
        subspace_dim=LMD["subspace_dim"],
        tolerance=LMD["tolerance"],
        metric_bandwidth=LMD["metric_bandwidth"],
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    log:
        "logs/lmd/{name}.log",
    benchmark:
        "results/benchmarks/lmd/{name}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/lmd_analyse.py --data {input.data:q} --name {wildcards.name} "
            "--models {params.models} --seed {params.seed} --points {params.points} "
            "--eval-points {params.eval_points} --bandwidths {params.bandwidths} --knn {params.knn} "
            "--subspace-dim {params.subspace_dim} --tolerance {params.tolerance} "
            "--metric-bandwidth {params.metric_bandwidth} "
            "--out-svd {output.svd:q} --out-eckart-young {output.eckart_young:q} "
            "--out-truncation {output.truncation:q} --out-laplacian {output.laplacian:q} "
            "--out-angles {output.angles:q} --out-metric {output.metric:q} --out-summary {output.summary:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule lmd_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        expand(f"{LMD_DIR}/provenance/{{name}}.json", name=LMD["datasets"]),
    output:
        f"{LMD_DIR}/provenance.json",
    log:
        "logs/lmd/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage lmd --out {output:q} > {log:q} 2>&1"


rule table_lmd:
    """Per layer and model: ranks, latent dimension, Eckart-Young discrepancy, angles and metric-map distances."""
    input:
        summary=lmd_csvs("summary"),
        eckart_young=lmd_csvs("eckart_young"),
        angles=lmd_csvs("angles"),
        metric=lmd_csvs("metric"),
    output:
        table("lmd_summary") + table("lmd_claims"),
    log:
        "logs/tables/lmd.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_lmd.py --summary {input.summary:q} --eckart-young {input.eckart_young:q} "
        "--angles {input.angles:q} --metric {input.metric:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_singular_values:
    """Normalised singular values of every layer ([W | b]) per model."""
    input:
        lmd_csvs("svd"),
    output:
        report_figure("lmd_singular_values", "Shyh-Chang, Luo & Qiu (004)", "lmd_singular_values.rst"),
    log:
        "logs/figures/lmd_singular_values.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_lmd.py spectra {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_error_vs_rank:
    """Test error of rank-k truncated networks relative to the full model, with the latent dimension."""
    input:
        lmd_csvs("truncation"),
    output:
        report_figure("lmd_error_vs_rank", "Shyh-Chang, Luo & Qiu (004)", "lmd_error_vs_rank.rst"),
    log:
        "logs/figures/lmd_error_vs_rank.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_lmd.py truncation {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_laplacian_spectra:
    """Smallest eigenvalues of the graph Laplacians of inputs, hidden activations and outputs."""
    input:
        lmd_csvs("laplacian"),
    output:
        report_figure("lmd_laplacian_spectra", "Shyh-Chang, Luo & Qiu (004)", "lmd_laplacian_spectra.rst"),
    log:
        "logs/figures/lmd_laplacian_spectra.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_lmd.py laplacian {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_principal_angles:
    """Principal angles between the Laplacian-eigenmap and PCA subspaces against the bandwidth (and kNN)."""
    input:
        lmd_csvs("angles"),
    output:
        report_figure("lmd_principal_angles", "Shyh-Chang, Luo & Qiu (004)", "lmd_principal_angles.rst"),
    log:
        "logs/figures/lmd_principal_angles.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_lmd.py angles {input:q} --out {output:q} > {log:q} 2>&1"
