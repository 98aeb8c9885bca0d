# A container with the pipeline and its CPU lock: Debian, Python 3.11, torch 2.13.0+cpu.
#
#   docker build -t nnmat .
#   docker run --rm -v "$PWD/run:/work" nnmat                       # default scale into ./run
#   docker run --rm -v "$PWD/run:/work" nnmat snakemake -s /opt/nnmat/Snakefile --cores 8 \
#       --configfile /opt/nnmat/config/paper.yaml
#   apptainer build nnmat.sif docker-daemon://nnmat:latest           # the same image for a cluster
#
# Written by hand rather than with `snakemake --containerize`: that command turns the workflow's
# conda envs into a Dockerfile that builds them with micromamba from conda-forge, i.e. a second
# install path; this recipe installs exactly what `make venv` installs, from the same hashed lock.
# The lock's torch hash is that of the CPU wheel it was made with (requirements/lock.sh); if PyTorch's
# CPU index serves a different file, the build stops with a hash mismatch: run `make lock` first.
FROM python:3.11-slim

# git: provenance records the commit (the repository is copied with its .git, see .dockerignore).
RUN apt-get update && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    MPLBACKEND=Agg

WORKDIR /opt/nnmat
# The lock first, so that editing the code does not reinstall the dependencies.
COPY requirements/cpu.txt requirements/cpu.txt
RUN pip install --require-hashes --extra-index-url https://download.pytorch.org/whl/cpu \
        -r requirements/cpu.txt
COPY . /opt/nnmat
RUN pip install --no-deps --no-build-isolation -e /opt/nnmat \
    && git config --system --add safe.directory /opt/nnmat

# Runs write under the working directory (mount one at /work); the code stays in /opt/nnmat.
WORKDIR /work
CMD ["snakemake", "-s", "/opt/nnmat/Snakefile", "--cores", "2"]
