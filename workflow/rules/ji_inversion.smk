# Ji, Wu & Xi: MLP matrix inversion. Datasets with a non-singularity certificate, batched
# training of every (architecture x seed) of a dataset in one job, Table 1 (test error), Table 3
# (inference time), Figs. 1-2 (the singular set of 2x2 matrices) and the why-can't experiment
# (Theorems 3.7-3.9). Compute rules write results/ji/*.csv; figure and table rules read only CSVs.
# The paper's lists (JI_FIGURES, JI_TABLES, JI_RESULTS, JI_EVIDENCE, JI_PROVENANCE) start here and are
# completed by ji_linapprox.smk (Table 2, Appendix E, the radius sweep).
from nnmat.ji.names import model_file

JI = config["ji"]
JI_DIR = "results/ji"
JI_DATASETS = JI["datasets"]
JI_TRAIN = JI["training"]
JI_WHY = JI["whycant"]
# The settings of a job are the fields of its dataclass (settings_for in common.smk): the data of a
# dataset are its DatasetSettings fields only (archs and steps change the training only); ji.training
# gives TrainSettings its fields (cycles gives t0_steps, log_every is capped per dataset, threads is
# the job's --threads).
# A GPU is requested from the scheduler only when the config asks for CUDA.
JI_GPU = {"gpu": 1} if config["device"] == "cuda" else {}


JI_FINALS = expand(f"{JI_DIR}/final_{{name}}.csv", name=JI_DATASETS)
JI_CURVES = expand(f"{JI_DIR}/curves_{{name}}.csv", name=JI_DATASETS)
JI_DATA_SUMMARIES = expand(f"{JI_DIR}/data/{{name}}_summary.csv", name=JI_DATASETS)
JI_TABLES = table("ji_table1") + table("ji_table3_timing") + table("ji_datasets") + table("ji_whycant_fit")
JI_FIGURES = (
    figure("ji_training_curves")
    + figure("ji_fig1_singular_slices")
    + figure("ji_fig2_singular_surface")
    + figure("ji_whycant_error_vs_sigma")
)
JI_RESULTS = (
    JI_FINALS
    + JI_DATA_SUMMARIES
    + [f"{JI_DIR}/whycant_neighbourhood.csv", f"{JI_DIR}/whycant_fit.csv", f"{JI_DIR}/whycant_tail.csv"]
    + [f"{JI_DIR}/provenance.json"]
)
# The CSVs a ji claim of config/claims.yaml may cite: the tables' CSVs and the why-can't results.
JI_EVIDENCE = [t for t in JI_TABLES if t.endswith(".csv")] + [
    f"{JI_DIR}/whycant_fit.csv",
    f"{JI_DIR}/whycant_neighbourhood.csv",
    f"{JI_DIR}/whycant_tail.csv",
]
# The merged provenance of each stage of the paper (the per-job JSONs are in JI_JOB_PROVENANCE).
JI_PROVENANCE = [f"{JI_DIR}/provenance.json"]
JI_JOB_PROVENANCE = (
    expand(f"{JI_DIR}/provenance/data_{{name}}.json", name=JI_DATASETS)
    + expand(f"{JI_DIR}/provenance/train_{{name}}.json", name=JI_DATASETS)
    + [f"{JI_DIR}/provenance/{job}.json" for job in ("inference", "geometry", "whycant", "whycant_tail")]
)
# Shell commands shared with the linear-approximation sweep (ji_linapprox.smk), which builds and trains
# extra datasets through the same scripts: the rules provide the same input/params/output names.
JI_DATA_SHELL = (
    python("ji_data.py") + "--settings {params.settings:q} --out {output.npz:q} "
    "--summary {output.summary:q} --samples {output.samples:q} "
    "--provenance {output.provenance:q} > {log:q} 2>&1"
)
JI_TRAIN_SHELL = (
    python("ji_train.py") + "{input.data:q} --settings {params.settings:q} --threads {threads} "
    "--checkpoint-dir {params.checkpoint_dir:q} --curves-out {output.curves:q} "
    "--final-out {output.final:q} --models-dir {output.models:q} "
    "--provenance {output.provenance:q} > {log:q} 2>&1"
)


localrules:
    ji_provenance,
    table_ji_table1,
    table_ji_table3,
    table_ji_datasets,
    table_ji_whycant_fit,
    fig_ji_training_curves,
    fig_ji_fig1_2,
    fig_ji_whycant,


rule ji_data:
    """A0 + Delta in a certified box: train/test matrices, true inverses, sigma_min per sample."""
    input:
        code=code("ji_data.py"),
    output:
        npz="data/ji/{name}.npz",
        summary=f"{JI_DIR}/data/{{name}}_summary.csv",
        samples=f"{JI_DIR}/data/{{name}}_test_samples.csv",
        provenance=f"{JI_DIR}/provenance/data_{{name}}.json",
    params:
        settings=lambda wc: ji_data_settings(wc.name, JI_DATASETS[wc.name]),
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    log:
        "logs/ji/data_{name}.log",
    benchmark:
        "results/benchmarks/ji/data_{name}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_DATA_SHELL


rule ji_train:
    """Every (architecture x seed) of one dataset trained together; curves, test metrics, weights.

    A killed job resumes from results/ji/checkpoints/{name}-{fingerprint}.pt (not an output, so
    Snakemake keeps it; the fingerprint digests the training settings and the data, so another config
    starts afresh).
    """
    input:
        data="data/ji/{name}.npz",
        code=code("ji_train.py"),
    output:
        curves=f"{JI_DIR}/curves_{{name}}.csv",
        final=f"{JI_DIR}/final_{{name}}.csv",
        models=directory(f"{JI_DIR}/models/{{name}}"),
        provenance=f"{JI_DIR}/provenance/train_{{name}}.json",
    params:
        settings=lambda wc: ji_train_settings(
            wc.name, JI_DATASETS[wc.name]["archs"], JI_DATASETS[wc.name]["steps"]
        ),
        checkpoint_dir=f"{JI_DIR}/checkpoints",
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: JI_TRAIN["threads"]
    resources:
        # from the sizes (nnmat.config.ji_train_bytes): a cluster enforces what a job declares
        mem_mb=lambda wc: declared_mem_mb(
            ji_train_bytes(JI_DATASETS[wc.name], JI_TRAIN["seeds"], JI_TRAIN["batch_size"]), 4000
        ),
        runtime=lambda wc: 30 + JI_DATASETS[wc.name]["steps"] // 500,
        **JI_GPU,
    log:
        "logs/ji/train_{name}.log",
    benchmark:
        "results/benchmarks/ji/train_{name}.tsv"
    conda:
        "../envs/nnmat.yaml"
    shell:
        JI_TRAIN_SHELL


rule ji_inference_time:
    """Table 3: wall time of every model of the timed datasets on their test sets, and exact inversion."""
    input:
        data=expand("data/ji/{name}.npz", name=JI["inference"]["datasets"]),
        models=expand(f"{JI_DIR}/models/{{name}}", name=JI["inference"]["datasets"]),
        code=code("ji_inference_time.py"),
    output:
        csv=f"{JI_DIR}/timing_inference.csv",
        provenance=f"{JI_DIR}/provenance/inference.json",
    params:
        settings=settings(JI["inference"], device=config["device"]),
        # seed 0 of each architecture: inference time depends on the shape, not on the trained values
        models=[m for name in JI["inference"]["datasets"] for m in ji_models(name, seeds=[0])],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        **JI_GPU,
    log:
        "logs/ji/inference_time.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_inference_time.py") + "--data {input.data:q} --models {params.models:q} "
        "--settings {params.settings:q} --out {output.csv:q} --provenance {output.provenance:q} "
        "> {log:q} 2>&1"


rule ji_geometry:
    """Figs. 1-2 data: sigma_min and det on 2D slices of 2x2 matrices, the surface ad - bc = 0, a safe ball."""
    input:
        code=code("ji_singular_geometry.py"),
    output:
        slices=f"{JI_DIR}/geometry_slices.csv",
        surface=f"{JI_DIR}/geometry_surface.csv",
        provenance=f"{JI_DIR}/provenance/geometry.json",
    params:
        settings=settings(JI["geometry"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    log:
        "logs/ji/geometry.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_singular_geometry.py") + "--settings {params.settings:q} "
        "--out-slices {output.slices:q} --out-surface {output.surface:q} "
        "--provenance {output.provenance:q} > {log:q} 2>&1"


rule ji_whycant:
    """Theorems 3.7-3.9: error against sigma_min on the general test set and near a singular matrix."""
    input:
        data=f"data/ji/{JI_WHY['dataset']}.npz",
        models=f"{JI_DIR}/models/{JI_WHY['dataset']}",
        code=code("ji_whycant.py"),
    output:
        points=f"{JI_DIR}/whycant_points.csv",
        neighbourhood=f"{JI_DIR}/whycant_neighbourhood.csv",
        fit=f"{JI_DIR}/whycant_fit.csv",
        provenance=f"{JI_DIR}/provenance/whycant.json",
    params:
        settings=settings(JI_WHY, ("singular", "radii", "per_radius"), seed=SEED),
        models=ji_models(JI_WHY["dataset"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/ji/whycant.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_whycant.py") + "--models {params.models:q} --data {input.data:q} "
        "--settings {params.settings:q} --out-points {output.points:q} "
        "--out-neighbourhood {output.neighbourhood:q} --out-fit {output.fit:q} "
        "--provenance {output.provenance:q} > {log:q} 2>&1"


rule ji_whycant_tail:
    """Theorem 3.9: Hill tail index of the per-sample test error, general dataset against a certified box."""
    input:
        data=f"data/ji/{JI_WHY['dataset']}.npz",
        models=f"{JI_DIR}/models/{JI_WHY['dataset']}",
        null_data=f"data/ji/{JI_WHY['null_dataset']}.npz",
        null_models=f"{JI_DIR}/models/{JI_WHY['null_dataset']}",
        code=code("ji_whycant_tail.py"),
    output:
        csv=f"{JI_DIR}/whycant_tail.csv",
        provenance=f"{JI_DIR}/provenance/whycant_tail.json",
    params:
        settings=settings_for("ji/tails.py", "TailSettings", JI_WHY),
        models=ji_models(JI_WHY["dataset"]),
        # the null: the same architectures on the certified box
        null_models=ji_models(JI_WHY["null_dataset"], archs=JI_DATASETS[JI_WHY["dataset"]]["archs"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    log:
        "logs/ji/whycant_tail.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("ji_whycant_tail.py") + "--data {input.data:q} --models {params.models:q} "
        "--null-data {input.null_data:q} --null-models {params.null_models:q} "
        "--settings {params.settings:q} --out {output.csv:q} --provenance {output.provenance:q} "
        "> {log:q} 2>&1"


rule ji_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        jobs=JI_JOB_PROVENANCE,
        code=code("provenance_merge.py"),
    output:
        json=f"{JI_DIR}/provenance.json",
    log:
        "logs/ji/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("provenance_merge.py") + "{input.jobs:q} --stage ji --out {output.json:q} > {log:q} 2>&1"


rule table_ji_table1:
    """Table 1: mean and std over seeds of the average absolute test error, per dataset and architecture."""
    input:
        final=JI_FINALS,
        # the training provenance of each final CSV: Table 1 refuses rows that do not match it
        provenance=expand(f"{JI_DIR}/provenance/train_{{name}}.json", name=JI_DATASETS),
        code=code("table_ji.py"),
    output:
        table("ji_table1"),
    log:
        "logs/ji/tables/ji_table1.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "table1 {input.final:q} --provenance-of-inputs {input.provenance:q} "
        "--out {output:q} > {log:q} 2>&1"


rule table_ji_datasets:
    """The datasets: centre, radius, certificate, sigma_min and cond quantiles of the samples."""
    input:
        summaries=JI_DATA_SUMMARIES,
        code=code("table_ji.py"),
    output:
        table("ji_datasets"),
    log:
        "logs/ji/tables/ji_datasets.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "datasets {input.summaries:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_table3:
    """Table 3: inference time per model and batch size beside the paper's printed values."""
    input:
        timing=f"{JI_DIR}/timing_inference.csv",
        paper=os.path.join(REPO, "config", "paper_values", "ji_table3.csv"),
        code=code("table_ji.py"),
    output:
        table("ji_table3_timing"),
    log:
        "logs/ji/tables/ji_table3.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "table3 {input.timing:q} --paper {input.paper:q} --out {output:q} "
        "> {log:q} 2>&1"


rule table_ji_whycant_fit:
    """The fitted growth of the error near the singular set, per model."""
    input:
        fit=f"{JI_DIR}/whycant_fit.csv",
        code=code("table_ji.py"),
    output:
        table("ji_whycant_fit"),
    log:
        "logs/ji/tables/ji_whycant_fit.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("table_ji.py") + "whycant {input.fit:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_training_curves:
    """Training loss and test error against step, per dataset and architecture (seed band)."""
    input:
        curves=JI_CURVES,
        code=code("plot_ji_training.py"),
    output:
        report_figure("ji_training_curves", "Ji, Wu & Xi", "ji_training_curves.rst"),
    log:
        "logs/ji/figures/ji_training_curves.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_training.py") + "{input.curves:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_fig1_2:
    """Figs. 1-2: epsilon-neighbourhood of the singular set in two 2D slices, and the 3D surface."""
    input:
        slices=f"{JI_DIR}/geometry_slices.csv",
        surface=f"{JI_DIR}/geometry_surface.csv",
        code=code("plot_ji_fig12.py"),
    output:
        report_figure("ji_fig1_singular_slices", "Ji, Wu & Xi", "ji_fig1_singular_slices.rst")
        + report_figure("ji_fig2_singular_surface", "Ji, Wu & Xi", "ji_fig2_singular_surface.rst"),
    log:
        "logs/ji/figures/ji_fig1_2.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_fig12.py") + "{input.slices:q} {input.surface:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_whycant:
    """Theorems 3.7-3.9: error against sigma_min with the fitted growth, and against the neighbourhood radius."""
    input:
        points=f"{JI_DIR}/whycant_points.csv",
        neighbourhood=f"{JI_DIR}/whycant_neighbourhood.csv",
        fit=f"{JI_DIR}/whycant_fit.csv",
        code=code("plot_ji_whycant.py"),
    output:
        report_figure("ji_whycant_error_vs_sigma", "Ji, Wu & Xi", "ji_whycant.rst"),
    log:
        "logs/ji/figures/ji_whycant.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        python("plot_ji_whycant.py") + "{input.points:q} {input.neighbourhood:q} {input.fit:q} "
        "--out {output:q} > {log:q} 2>&1"
