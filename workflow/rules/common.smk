# Helpers shared by every rule file.
import hashlib
import json

# Small linear-algebra kernels run several times faster single-threaded on this machine class; one
# BLAS thread per job and Snakemake's job-level parallelism use the cores better. Each shell command
# starts with this prefix so the limit also holds on a cluster node.
THREADS_ENV = (
    "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
)


def figure(stem):
    """A figure is written as PNG and PDF under figures/, named after the paper item it regenerates."""
    return [f"figures/{stem}.png", f"figures/{stem}.pdf"]


def table(stem):
    """A table is written as CSV (for machines) and Markdown (for people) under results/tables/."""
    return [f"results/tables/{stem}.csv", f"results/tables/{stem}.md"]


def report_figure(stem, category, caption, subcategory=None):
    """The PNG of a figure marked for `snakemake --report`, plus its PDF."""
    png, pdf = figure(stem)
    caption_path = f"../report/{caption}"
    return [report(png, category=category, subcategory=subcategory, caption=caption_path), pdf]


# --------------------------------------------------------------- Ji, Wu & Xi (inversion, linapprox)
# The keys of a dataset spec that define its data (archs and steps change the training only).
JI_DATA_KEYS = ("n", "centre", "radius_fraction", "includes_singular", "train", "test")


def ji_models(name, archs=None, seeds=None):
    """Model files of one ji dataset (inside the directory output of ji_train): one per (arch, seed),
    optionally only some architectures or seed indices."""
    archs = [a for a in config["ji"]["datasets"][name]["archs"] if archs is None or a in archs]
    seeds = range(config["ji"]["training"]["seeds"]) if seeds is None else seeds
    return [f"results/ji/models/{name}/{arch}_seed{i}.pt" for arch in archs for i in seeds]


def ji_t0_steps(steps):
    """T_0 such that `cycles` warm-restart cycles (T_0, T_0 T_mult, ...) end at the last step."""
    training = config["ji"]["training"]
    return max(1, steps // sum(training["t_mult"] ** i for i in range(training["cycles"])))


def ji_log_every(steps):
    """ji.training.log_every, but at least five points per curve for short runs."""
    return max(1, min(config["ji"]["training"]["log_every"], steps // 5))


def lin_sweep_spec(sweep):
    """The dataset spec of one radius-sweep box: the base dataset's with another radius_fraction."""
    fraction = float(sweep.rsplit("_rf", 1)[1])
    base = config["ji"]["datasets"][config["linapprox"]["radius_sweep"]["dataset"]]
    spec = {k: base[k] for k in JI_DATA_KEYS if k in base}
    return json.dumps({**spec, "radius_fraction": fraction}, sort_keys=True)


def lmd_csvs(kind):
    """One CSV of the given kind per analysed dataset of the LMD stage."""
    return expand(f"results/lmd/{kind}_{{name}}.csv", name=config["lmd"]["datasets"])


def run_tag(*parts):
    """A short digest of everything that defines a training run. Checkpoints are named with it, so a
    changed config starts a fresh run next to the old checkpoint (nothing computed is lost) while a
    killed run of the same config resumes from its own."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]
