# Helpers shared by every rule file.
import ast
import functools
import json
import os

# Small linear-algebra kernels run several times faster single-threaded on this machine class; one
# BLAS thread per job and Snakemake's job-level parallelism use the cores better. Each shell command
# starts with this prefix so the limit also holds on a cluster node.
THREADS_ENV = (
    "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
)


# ------------------------------------------------------------------- code and settings of a job
# Everything shipped with the workflow is found from the repository (REPO, set in the Snakefile), and
# everything a run writes goes under the working directory, so `--directory` and module use work.
SCRIPTS = os.path.join(REPO, "scripts")


def script(name):
    """Absolute path of a script in scripts/ (jobs may run in any working directory)."""
    path = os.path.join(SCRIPTS, name)
    if not os.path.exists(path):
        raise WorkflowError(f"no script {path}")
    return path


def python(name):
    """The start of a job's shell command: one BLAS thread per job (see THREADS_ENV), then the script."""
    return THREADS_ENV + f"python {script(name)!r} "


@functools.lru_cache(maxsize=None)
def _nnmat_imports(path):
    """The library modules (files under scripts/nnmat) that one Python file imports directly."""
    tree = ast.parse(open(path).read(), filename=path)
    here = os.path.dirname(path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the library
                base = here
                for _ in range(node.level - 1):
                    base = os.path.dirname(base)
                parts = (node.module or "").split(".") if node.module else []
            elif node.module and node.module.split(".")[0] == "nnmat":
                base, parts = SCRIPTS, node.module.split(".")
            else:
                continue
            prefix = os.path.join(base, *parts)
            candidates = [f"{prefix}.py", os.path.join(prefix, "__init__.py")]
            candidates += [os.path.join(prefix, f"{alias.name}.py") for alias in node.names]
            candidates += [os.path.join(prefix, alias.name, "__init__.py") for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names if a.name.split(".")[0] == "nnmat"]
            candidates = [f"{os.path.join(SCRIPTS, *n)}.py" for n in names]
            candidates += [os.path.join(SCRIPTS, *n, "__init__.py") for n in names]
        else:
            continue
        found.update(os.path.normpath(c) for c in candidates if os.path.isfile(c))
    return frozenset(found)


@functools.lru_cache(maxsize=None)
def _closure(path):
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_nnmat_imports(current))
    return tuple(sorted(seen))


def code(*names):
    """A job's code as inputs: its scripts and every library module they import (transitively), so an
    edit of scripts/nnmat/... reruns exactly the jobs that run the edited code."""
    return sorted({f for name in names for f in _closure(script(name))})


def settings(section, keys=None, **extra):
    """The one settings argument of a script: the config slice it reads, as canonical JSON (sorted
    keys), so Snakemake's params trigger reruns only on real changes. `keys` picks fields of
    `section`; `extra` adds derived or wildcard-dependent fields."""
    picked = dict(section) if keys is None else {k: section[k] for k in keys}
    return json.dumps({**picked, **extra}, sort_keys=True, separators=(",", ":"))


@functools.lru_cache(maxsize=None)
def settings_fields(module, cls):
    """The field names of the settings dataclass `cls` in scripts/nnmat/<module>, read from its source
    (not imported: torch would cost seconds at every DAG build)."""
    path = os.path.join(SCRIPTS, "nnmat", module)
    for node in ast.parse(open(path).read(), filename=path).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return tuple(
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign) and "ClassVar" not in ast.unparse(s.annotation)
            )
    raise WorkflowError(f"no class {cls} in {path}")


def settings_for(module, cls, section, **extra):
    """`settings` with the keys the dataclass declares: each field not given in `extra` is the
    section key of the same name. A new hyperparameter is then a schema/config key and a dataclass
    field of the same name, with no list of keys to update here."""
    keys = [f for f in settings_fields(module, cls) if f not in extra]
    missing = [k for k in keys if k not in section]
    if missing:
        raise WorkflowError(f"{module}:{cls} fields {missing} are neither config keys nor given by the rule")
    return settings(section, keys, **extra)


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


# ----------------------------------------------------------------- Ji, Wu & Xi (ji_inversion.smk)
# (Snakemake's lint wants functions here, apart from the rules; they read the constants of that file.)


def ji_model_files(models_dir, archs, seeds):
    """The model files of a ji_train job's models directory: one per (arch, seed index)."""
    return [model_file(models_dir, arch, i) for arch in archs for i in seeds]


def ji_models(name, archs=None, seeds=None):
    """Model files of one ji dataset (inside the directory output of ji_train): one per (arch, seed),
    optionally only some architectures or seed indices."""
    archs = [a for a in JI_DATASETS[name]["archs"] if archs is None or a in archs]
    seeds = range(JI_TRAIN["seeds"]) if seeds is None else seeds
    return ji_model_files(f"{JI_DIR}/models/{name}", archs, seeds)


def ji_t0_steps(steps):
    """T_0 such that `cycles` warm-restart cycles (T_0, T_0 T_mult, ...) end at the last step."""
    return max(1, steps // sum(JI_TRAIN["t_mult"] ** i for i in range(JI_TRAIN["cycles"])))


def ji_log_every(steps):
    """ji.training.log_every, but at least five points per curve for short runs."""
    return max(1, min(JI_TRAIN["log_every"], steps // 5))


def ji_data_settings(name, spec):
    """The settings of ji_data.py for one dataset (nnmat.ji.boxes.DatasetSettings)."""
    return settings_for("ji/boxes.py", "DatasetSettings", spec, dataset=name, seed=SEED)


def ji_train_settings(name, archs, steps):
    """The settings of ji_train.py for one dataset (nnmat.ji.engine.TrainSettings)."""
    return settings_for(
        "ji/engine.py",
        "TrainSettings",
        JI_TRAIN,
        dataset=name,
        archs=list(archs),
        seed=SEED,
        steps=steps,
        t0_steps=ji_t0_steps(steps),
        log_every=ji_log_every(steps),
        device=config["device"],
    )


# ------------------------------------------- Ji, Wu & Xi: linear approximation (ji_linapprox.smk)
# (Snakemake's lint wants functions here, apart from the rules; they read the constants of that file.)


def lin_sweep_settings(sweep):
    """The ji_data.py settings of one radius-sweep box: the base dataset's with another radius_fraction."""
    fraction = float(sweep.rsplit("_rf", 1)[1])
    base = JI_DATASETS[LIN_SWEEP["dataset"]]
    return settings_for(
        "ji/boxes.py", "DatasetSettings", base, dataset=sweep, seed=SEED, radius_fraction=fraction
    )


# ---------------------------------------------------------------- Shyh-Chang, Luo & Qiu (lmd.smk)
# (Snakemake's lint wants functions here, apart from the rules; they read the constants of that file.)


def lmd_csvs(kind):
    """One CSV of the given kind per analysed dataset of the LMD stage."""
    return expand(f"{LMD_DIR}/{kind}_{{name}}.csv", name=LMD["datasets"])


# ---------------------------------------------------------------------------- report (report.smk)
# (Snakemake's lint wants functions here, apart from the rules; they read the constants of that file.)


def paper_target(paper):
    """What `snakemake <paper>` builds: the paper's figures, tables, results, claims and section."""
    return (
        PAPER_FIGURES[paper]
        + PAPER_TABLES[paper]
        + PAPER_RESULTS[paper]
        + [f"results/claims/{paper}.csv", f"results/report/{paper}.md"]
    )
