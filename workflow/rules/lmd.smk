# Shyh-Chang, Luo & Qiu: Layer Matrix Decomposition of the networks this pipeline trains.
# A theory paper: each construct (layer SVD with absorbed bias, Eckart-Young truncation, latent
# dimension, graph Laplacians of input/latent/output point clouds, metric maps) is turned into a
# measurement on the MLP inverters of the Ji, Wu & Xi stage. One compute job per dataset; figure and
# table rules read only its CSVs.

LMD = config["lmd"]
LMD_DIR = "results/lmd"
LMD_OUTPUTS = ("svd", "eckart_young", "truncation", "laplacian", "angles", "metric")


# Exported to the Snakefile and report.smk.
LMD_FIGURES = (
    figure("lmd_singular_values")
    + figure("lmd_error_vs_rank")
    + figure("lmd_laplacian_spectra")
    + figure("lmd_principal_angles")
)
LMD_TABLES = table("lmd_summary") + table("lmd_claims")
LMD_PROVENANCE = [f"{LMD_DIR}/provenance.json"]
LMD_RESULTS = LMD_PROVENANCE + [f for kind in (*LMD_OUTPUTS, "summary") for f in lmd_csvs(kind)]
# Every lmd_ claim of config/claims.yaml is scored on results/tables/lmd_claims.csv.
LMD_EVIDENCE = [t for t in LMD_TABLES if t.endswith(".csv")]


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
        code=code("lmd_analyse.py"),
    output:
        **{kind: f"{LMD_DIR}/{kind}_{{name}}.csv" for kind in LMD_OUTPUTS},
        summary=f"{LMD_DIR}/summary_{{name}}.csv",
        summary_md=f"{LMD_DIR}/summary_{{name}}.md",
        provenance=f"{LMD_DIR}/provenance/{{name}}.json",
    params:
        # the files inside the models directory (the output of ji_train)
        models=lambda wc: ji_models(wc.name),
        # learned_exempt: a dataset with singular matrices has no "did not learn" flag (nnmat.ji.baselines)
        settings=lambda wc: settings_for(
            "lmd/settings.py",
            "Settings",
            LMD,
            seed=SEED,
            dataset=wc.name,
            learned_exempt=bool(config["ji"]["datasets"][wc.name].get("includes_singular", False)),
        ),
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    log:
        "logs/lmd/analyse_{name}.log",
    benchmark:
        "results/benchmarks/lmd/analyse_{name}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("lmd_analyse.py")
            + "--data {input.data:q} --models {params.models:q} --settings {params.settings:q} "
            "--out-svd {output.svd:q} --out-eckart-young {output.eckart_young:q} "
            "--out-truncation {output.truncation:q} --out-laplacian {output.laplacian:q} "
            "--out-angles {output.angles:q} --out-metric {output.metric:q} "
            "--out-summary {output.summary:q} --out-summary-md {output.summary_md:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule lmd_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        provenance=expand(f"{LMD_DIR}/provenance/{{name}}.json", name=LMD["datasets"]),
        code=code("provenance_merge.py"),
    output:
        merged=LMD_PROVENANCE[0],
    log:
        "logs/lmd/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("provenance_merge.py")
            + "{input.provenance:q} --stage lmd --out {output.merged:q} > {log:q} 2>&1"
        )


rule table_lmd:
    """Per layer and model: ranks, latent dimension, Eckart-Young discrepancy, angles and metric-map distances."""
    input:
        summary=lmd_csvs("summary"),
        eckart_young=lmd_csvs("eckart_young"),
        angles=lmd_csvs("angles"),
        metric=lmd_csvs("metric"),
        code=code("table_lmd.py"),
    output:
        LMD_TABLES,
    log:
        "logs/lmd/table_lmd.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("table_lmd.py")
            + "--summary {input.summary:q} --eckart-young {input.eckart_young:q} "
            "--angles {input.angles:q} --metric {input.metric:q} --out {output:q} > {log:q} 2>&1"
        )


rule fig_lmd_singular_values:
    """Normalised singular values of every layer ([W | b]) per model."""
    input:
        csv=lmd_csvs("svd"),
        code=code("plot_lmd.py"),
    output:
        report_figure("lmd_singular_values", "Shyh-Chang, Luo & Qiu", "lmd_singular_values.rst"),
    log:
        "logs/lmd/fig_lmd_singular_values.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_lmd.py") + "spectra {input.csv:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_error_vs_rank:
    """Test error of rank-k truncated networks relative to the full model, with the latent dimension."""
    input:
        csv=lmd_csvs("truncation"),
        code=code("plot_lmd.py"),
    output:
        report_figure("lmd_error_vs_rank", "Shyh-Chang, Luo & Qiu", "lmd_error_vs_rank.rst"),
    log:
        "logs/lmd/fig_lmd_error_vs_rank.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_lmd.py") + "truncation {input.csv:q} --out {output:q} > {log:q} 2>&1"


rule fig_lmd_laplacian_spectra:
    """Smallest eigenvalues of the graph Laplacians of inputs, hidden activations and outputs."""
    input:
        csv=lmd_csvs("laplacian"),
        code=code("plot_lmd.py"),
    output:
        report_figure("lmd_laplacian_spectra", "Shyh-Chang, Luo & Qiu", "lmd_laplacian_spectra.rst"),
    params:
        settings=settings(LMD, keys=["figure_bandwidth"]),
    log:
        "logs/lmd/fig_lmd_laplacian_spectra.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            python("plot_lmd.py")
            + "laplacian {input.csv:q} --settings {params.settings:q} --out {output:q} > {log:q} 2>&1"
        )


rule fig_lmd_principal_angles:
    """Principal angles between the Laplacian-eigenmap and PCA subspaces against the bandwidth (and kNN)."""
    input:
        csv=lmd_csvs("angles"),
        code=code("plot_lmd.py"),
    output:
        report_figure("lmd_principal_angles", "Shyh-Chang, Luo & Qiu", "lmd_principal_angles.rst"),
    log:
        "logs/lmd/fig_lmd_principal_angles.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_lmd.py") + "angles {input.csv:q} --out {output:q} > {log:q} 2>&1"
