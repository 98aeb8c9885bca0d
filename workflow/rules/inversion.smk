# Ji, Wu & Xi (paper 003): MLP matrix inversion. Datasets with a non-singularity certificate, batched
# training of every (architecture x seed) of a dataset in one job, Table 1 (test error), Table 3
# (inference time), Figs. 1-2 (the singular set of 2x2 matrices) and the why-can't experiment
# (Theorems 3.7-3.9). Compute rules write results/ji/*.csv; figure and table rules read only CSVs.
import re

JI = config["ji"]
JI_DIR = "results/ji"
JI_DATASETS = JI["datasets"]
JI_TRAIN = JI["training"]
JI_WHY = JI["whycant"]


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
    + [f"{JI_DIR}/whycant_neighbourhood.csv", f"{JI_DIR}/whycant_fit.csv"]
    + [f"{JI_DIR}/provenance.json"]
)
JI_PROVENANCE = (
    expand(f"{JI_DIR}/provenance/data_{{name}}.json", name=JI_DATASETS)
    + expand(f"{JI_DIR}/provenance/train_{{name}}.json", name=JI_DATASETS)
    + [f"{JI_DIR}/provenance/{job}.json" for job in ("inference", "geometry", "whycant")]
)
# Shell commands shared with the linear-approximation sweep (linapprox.smk), which builds and trains
# extra datasets through the same scripts: the rules provide the same params/output names.
JI_DATA_SHELL = (
    THREADS_ENV
    + "python scripts/ji_data.py --name {params.name} --seed {params.seed} --spec {params.spec:q} "
    "--out {output.npz:q} --summary {output.summary:q} --samples {output.samples:q} "
    "--provenance {output.provenance:q} > {log:q} 2>&1"
)
JI_TRAIN_SHELL = (
    THREADS_ENV
    + "python scripts/ji_train.py {input:q} --dataset {params.name} --archs {params.archs} "
    "--seeds {params.seeds} --master-seed {params.seed} --steps {params.steps} "
    "--batch-size {params.batch_size} --lr {params.lr} --weight-decay {params.weight_decay} "
    "--t0-steps {params.t0_steps} --t-mult {params.t_mult} --log-every {params.log_every} "
    "--checkpoint-every {params.checkpoint_every} --device {params.device} --threads {threads} "
    "--checkpoint {params.checkpoint:q} --curves-out {output.curves:q} --final-out {output.final:q} "
    "--models-dir {output.models:q} --provenance {output.provenance:q} > {log:q} 2>&1"
)
# Training parameters every training rule shares (the dataset-specific ones are added per rule).
JI_TRAIN_PARAMS = dict(
    seed=SEED,
    seeds=JI_TRAIN["seeds"],
    batch_size=JI_TRAIN["batch_size"],
    lr=JI_TRAIN["lr"],
    weight_decay=JI_TRAIN["weight_decay"],
    t_mult=JI_TRAIN["t_mult"],
    checkpoint_every=JI_TRAIN["checkpoint_every"],
    device=config.get("device", "cpu"),
)
# A GPU is requested from the scheduler only when the config asks for CUDA.
JI_GPU = {"gpu": 1} if config.get("device") == "cuda" else {}


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
    output:
        npz="data/ji/{name}.npz",
        summary=f"{JI_DIR}/data/{{name}}_summary.csv",
        samples=f"{JI_DIR}/data/{{name}}_test_samples.csv",
        provenance=f"{JI_DIR}/provenance/data_{{name}}.json",
    params:
        name="{name}",
        seed=SEED,
        spec=lambda wc: json.dumps(
            {k: JI_DATASETS[wc.name][k] for k in JI_DATA_KEYS if k in JI_DATASETS[wc.name]}, sort_keys=True
        ),
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

    A killed job resumes from results/ji/checkpoints/{name}-{run tag}.pt (not an output, so Snakemake
    keeps it; the tag digests the dataset and training config, so another config starts afresh).
    """
    input:
        "data/ji/{name}.npz",
    output:
        curves=f"{JI_DIR}/curves_{{name}}.csv",
        final=f"{JI_DIR}/final_{{name}}.csv",
        models=directory(f"{JI_DIR}/models/{{name}}"),
        provenance=f"{JI_DIR}/provenance/train_{{name}}.json",
    params:
        name="{name}",
        archs=lambda wc: " ".join(JI_DATASETS[wc.name]["archs"]),
        steps=lambda wc: JI_DATASETS[wc.name]["steps"],
        t0_steps=lambda wc: ji_t0_steps(JI_DATASETS[wc.name]["steps"]),
        log_every=lambda wc: ji_log_every(JI_DATASETS[wc.name]["steps"]),
        checkpoint=lambda wc: (
            f"{JI_DIR}/checkpoints/{wc.name}-"
            f"{run_tag(JI_DATASETS[wc.name], JI_TRAIN, SEED, config.get('device', 'cpu'))}.pt"
        ),
        **JI_TRAIN_PARAMS,
    wildcard_constraints:
        name="|".join(JI_DATASETS),
    threads: JI_TRAIN["threads"]
    resources:
        mem_mb=4000,
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
    output:
        csv=f"{JI_DIR}/timing_inference.csv",
        provenance=f"{JI_DIR}/provenance/inference.json",
    params:
        names=" ".join(JI["inference"]["datasets"]),
        # seed 0 of each architecture: inference time depends on the shape, not on the trained values
        models=" ".join(m for name in JI["inference"]["datasets"] for m in ji_models(name, seeds=[0])),
        batch_sizes=" ".join(str(b) for b in JI["inference"]["batch_sizes"]),
        repeats=JI["inference"]["repeats"],
        device=config.get("device", "cpu"),
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
        (
            THREADS_ENV
            + "python scripts/ji_inference_time.py --data {input.data:q} --names {params.names} "
            "--models {params.models} --batch-sizes {params.batch_sizes} --repeats {params.repeats} "
            "--device {params.device} --out {output.csv:q} --provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule ji_geometry:
    """Figs. 1-2 data: sigma_min and det on 2D slices of 2x2 matrices, the surface ad - bc = 0, a safe ball."""
    output:
        slices=f"{JI_DIR}/geometry_slices.csv",
        surface=f"{JI_DIR}/geometry_surface.csv",
        provenance=f"{JI_DIR}/provenance/geometry.json",
    params:
        eps=JI["geometry"]["eps"],
        grid=JI["geometry"]["grid"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    log:
        "logs/ji/geometry.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/ji_singular_geometry.py --eps {params.eps} --grid {params.grid} "
            "--out-slices {output.slices:q} --out-surface {output.surface:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule ji_whycant:
    """Theorems 3.7-3.9: error against sigma_min on the general test set and near a singular matrix."""
    input:
        data=f"data/ji/{JI_WHY['dataset']}.npz",
        models=f"{JI_DIR}/models/{JI_WHY['dataset']}",
    output:
        points=f"{JI_DIR}/whycant_points.csv",
        neighbourhood=f"{JI_DIR}/whycant_neighbourhood.csv",
        fit=f"{JI_DIR}/whycant_fit.csv",
        provenance=f"{JI_DIR}/provenance/whycant.json",
    params:
        seed=SEED,
        models=" ".join(ji_models(JI_WHY["dataset"])),
        radii=" ".join(repr(float(r)) for r in JI_WHY["radii"]),
        per_radius=JI_WHY["per_radius"],
        singular=" ".join(repr(float(v)) for v in JI_WHY["singular"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/ji/whycant.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        (
            THREADS_ENV
            + "python scripts/ji_whycant.py --models {params.models} --data {input.data:q} "
            "--seed {params.seed} --radii {params.radii} --per-radius {params.per_radius} "
            "--singular {params.singular} --out-points {output.points:q} "
            "--out-neighbourhood {output.neighbourhood:q} --out-fit {output.fit:q} "
            "--provenance {output.provenance:q} > {log:q} 2>&1"
        )


rule ji_provenance:
    """The stage's provenance: every compute job's JSON merged into one file."""
    input:
        JI_PROVENANCE,
    output:
        f"{JI_DIR}/provenance.json",
    log:
        "logs/ji/provenance.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/provenance_merge.py {input:q} --stage ji --out {output:q} > {log:q} 2>&1"


rule table_ji_table1:
    """Table 1: mean and std over seeds of the average absolute test error, per dataset and architecture."""
    input:
        JI_FINALS,
    output:
        table("ji_table1"),
    log:
        "logs/tables/ji_table1.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py table1 {input:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_datasets:
    """The datasets: centre, radius, certificate, sigma_min and cond quantiles of the samples."""
    input:
        JI_DATA_SUMMARIES,
    output:
        table("ji_datasets"),
    log:
        "logs/tables/ji_datasets.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py datasets {input:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_table3:
    """Table 3: inference time per model and batch size beside the paper's printed values."""
    input:
        timing=f"{JI_DIR}/timing_inference.csv",
        paper="config/paper_values/ji_table3.csv",
    output:
        table("ji_table3_timing"),
    log:
        "logs/tables/ji_table3.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py table3 {input.timing:q} --paper {input.paper:q} --out {output:q} > {log:q} 2>&1"


rule table_ji_whycant_fit:
    """The fitted growth of the error near the singular set, per model."""
    input:
        f"{JI_DIR}/whycant_fit.csv",
    output:
        table("ji_whycant_fit"),
    log:
        "logs/tables/ji_whycant_fit.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/table_ji.py whycant {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_training_curves:
    """Training loss and test error against step, per dataset and architecture (seed band)."""
    input:
        JI_CURVES,
    output:
        report_figure("ji_training_curves", "Ji, Wu & Xi (003)", "ji_training_curves.rst"),
    log:
        "logs/figures/ji_training_curves.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_training.py {input:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_fig1_2:
    """Figs. 1-2: epsilon-neighbourhood of the singular set in two 2D slices, and the 3D surface."""
    input:
        slices=f"{JI_DIR}/geometry_slices.csv",
        surface=f"{JI_DIR}/geometry_surface.csv",
    output:
        report_figure("ji_fig1_singular_slices", "Ji, Wu & Xi (003)", "ji_fig1_singular_slices.rst")
        + report_figure("ji_fig2_singular_surface", "Ji, Wu & Xi (003)", "ji_fig2_singular_surface.rst"),
    log:
        "logs/figures/ji_fig1_2.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_fig12.py {input.slices:q} {input.surface:q} --out {output:q} > {log:q} 2>&1"


rule fig_ji_whycant:
    """Theorems 3.7-3.9: error against sigma_min with the fitted growth, and against the neighbourhood radius."""
    input:
        points=f"{JI_DIR}/whycant_points.csv",
        neighbourhood=f"{JI_DIR}/whycant_neighbourhood.csv",
        fit=f"{JI_DIR}/whycant_fit.csv",
    output:
        report_figure("ji_whycant_error_vs_sigma", "Ji, Wu & Xi (003)", "ji_whycant.rst"),
    log:
        "logs/figures/ji_whycant.log",
    conda:
        "../envs/nnmat.yaml"
    shell:
        "python scripts/plot_ji_whycant.py {input.points:q} {input.neighbourhood:q} {input.fit:q} "
        "--out {output:q} > {log:q} 2>&1"
