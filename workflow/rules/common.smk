# Helpers shared by every rule file.

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
