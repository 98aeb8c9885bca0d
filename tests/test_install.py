"""The install story: hashed locks, `make venv`, the conda env and the container recipe.

Fast and offline: these tests read the files and run `make -n` / `make python-check`, never pip.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
REQ = REPO / "requirements"
LOCKS = ("cpu", "cuda", "macos", "dev")
RUNTIME_LOCKS = ("cpu", "cuda", "macos")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _conda_env_module():
    spec = importlib.util.spec_from_file_location("conda_env", REQ / "conda_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conda_env = _conda_env_module()


def lock_entries(name: str) -> list[str]:
    return conda_env.lock_entries((REQ / f"{name}.txt").read_text())


def pins(name: str) -> dict[str, str]:
    """{canonical package name: pinned version} of one lock."""
    out = {}
    for entry in lock_entries(name):
        spec = entry.split()[0]
        package, version = spec.split("==")
        out[canonicalize_name(package)] = version
    return out


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def make(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


# ------------------------------------------------------------------------------------------- locks
@pytest.mark.parametrize("name", LOCKS)
def test_every_pin_is_exact_and_hashed(name):
    entries = lock_entries(name)
    assert entries, f"requirements/{name}.txt is empty"
    for entry in entries:
        assert not entry.startswith("-"), f"{name}.txt: option line {entry!r} (the Makefile adds indexes)"
        spec, *rest = entry.split()
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^=;\s]+", spec), f"{name}.txt: not exact: {spec}"
        assert rest and all(HASH.fullmatch(h) for h in rest), f"{name}.txt: {spec} without sha256 hashes"


@pytest.mark.parametrize("name", LOCKS)
def test_lock_says_how_it_was_made(name):
    head = (REQ / f"{name}.txt").read_text().splitlines()[:6]
    text = "\n".join(head)
    assert all(line.startswith("#") for line in head)
    assert "make lock" in text and "uv pip compile --generate-hashes" in text and "Install:" in text


@pytest.mark.parametrize("name", RUNTIME_LOCKS)
def test_direct_dependencies_are_in_each_runtime_lock(name):
    locked = pins(name)
    for dep in project()["dependencies"]:
        req = Requirement(dep)
        key = canonicalize_name(req.name)
        assert key in locked, f"{req.name} (pyproject.toml) is missing from requirements/{name}.txt"
        assert req.specifier.contains(Version(locked[key]), prereleases=True), (
            f"{name}.txt pins {req.name}=={locked[key]}, outside pyproject's {req.specifier}"
        )


def test_dev_dependencies_are_in_the_dev_lock():
    locked = pins("dev")
    for dep in project()["optional-dependencies"]["dev"]:
        req = Requirement(dep)
        key = canonicalize_name(req.name)
        assert key in locked, f"{req.name} (pyproject.toml, dev) is missing from requirements/dev.txt"
        assert req.specifier.contains(Version(locked[key]), prereleases=True)


def test_runtime_and_dev_are_separate():
    dev_only = {canonicalize_name(Requirement(d).name) for d in project()["optional-dependencies"]["dev"]}
    for name in RUNTIME_LOCKS:
        assert not dev_only & set(pins(name)), f"dev tools in requirements/{name}.txt"
    assert "torch" not in pins("dev")


def test_each_variant_pins_its_torch():
    cpu, cuda, macos = (pins(n) for n in RUNTIME_LOCKS)
    assert cpu["torch"] == "2.13.0+cpu"
    assert cuda["torch"] == macos["torch"] == "2.13.0"
    assert "triton" in cuda and any(p.startswith("nvidia-") for p in cuda)
    for tree in (cpu, macos):
        assert "triton" not in tree and not any(p.startswith(("nvidia-", "cuda-")) for p in tree)


def test_shared_pins_agree_across_locks():
    cpu = pins("cpu")
    for name in ("cuda", "macos", "dev"):
        other = pins(name)
        differ = {p: (cpu[p], other[p]) for p in set(cpu) & set(other) - {"torch"} if cpu[p] != other[p]}
        assert not differ, f"requirements/{name}.txt and cpu.txt pin differently: {differ}"


def test_lock_inputs_exist():
    script = (REQ / "lock.sh").read_text()
    for path in re.findall(r"requirements/[\w.-]+\.in", script):
        assert (REPO / path).is_file(), path
    assert os.access(REQ / "lock.sh", os.X_OK)


def test_old_freeze_is_gone_and_unreferenced():
    assert not (REPO / "requirements.txt").exists()
    for path in ("Makefile", "README.md", ".ci/run", "Dockerfile", "workflow/envs/nnmat.yaml"):
        assert "requirements.txt" not in (REPO / path).read_text(), path
    for path in (REPO / "profiles").rglob("*.yaml"):
        assert "requirements.txt" not in path.read_text(), path


# -------------------------------------------------------------------------------------------- make
def venv_recipe() -> str:
    text = (REPO / "Makefile").read_text()
    start = text.index("$(STAMP):")
    return text[start : text.index("\n\n", start)]


def test_make_venv_installs_from_the_locks_with_hashes():
    recipe = venv_recipe()
    installs = [line for line in recipe.splitlines() if "pip install" in line and "echo" not in line]
    assert len(installs) == 2, installs
    locked, editable = installs
    assert "--require-hashes" in locked and "-r $(LOCK) -r $(DEV_LOCK)" in locked
    assert "--no-deps --no-build-isolation -e ." in editable
    assert "--upgrade" not in recipe  # nothing unhashed
    assert "timeout 10" in recipe and "download.pytorch.org" not in recipe  # via $(TORCH_CPU_INDEX)


@pytest.mark.parametrize(("torch", "lock"), [("cpu", "cpu"), ("cuda", "cuda"), ("macos", "macos")])
def test_torch_switch_picks_the_lock(torch, lock):
    out = make("-n", "venv", f"TORCH={torch}", "VENV=/nonexistent-venv")
    assert out.returncode == 0, out.stderr
    assert f"--require-hashes $extra -r requirements/{lock}.txt -r requirements/dev.txt" in out.stdout
    assert f".installed-{torch}-" in out.stdout


def test_unknown_torch_variant_is_refused():
    out = make("-n", "venv", "TORCH=rocm")
    assert out.returncode != 0 and "TORCH=cpu" in out.stderr


def test_stamp_changes_with_the_lock_and_pyproject(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path)
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(REQ, tmp_path / "requirements")

    def stamp():
        out = make("-n", "venv", "VENV=.v", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return re.search(r"touch (\.v/\.installed-\S+)", out.stdout).group(1)

    first = stamp()
    with open(tmp_path / "requirements" / "cpu.txt", "a") as f:
        f.write("# edited\n")
    second = stamp()
    with open(tmp_path / "pyproject.toml", "a") as f:
        f.write("# edited\n")
    third = stamp()
    assert len({first, second, third}) == 3


def test_python_check_names_the_version_and_the_fix(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text('#!/bin/sh\ncase "$2" in *platform*) echo "Python 3.13.1" ;; *) exit 1 ;; esac\n')
    fake.chmod(0o755)
    out = make("-s", "python-check", f"PYTHON={fake}", f"VENV={tmp_path / 'none'}")
    assert out.returncode != 0
    assert "needs Python 3.11.x" in out.stderr and "Python 3.13.1" in out.stderr
    assert "PYTHON=python3.11" in out.stderr


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="needs a Python 3.11 interpreter")
def test_python_check_accepts_3_11(tmp_path):
    out = make("-s", "python-check", f"PYTHON={sys.executable}", f"VENV={tmp_path / 'none'}")
    assert out.returncode == 0, out.stderr


def test_make_clean_never_deletes_tracked_files():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = make("-n", "clean")
    assert out.returncode == 0, out.stderr
    paths = [p for line in out.stdout.splitlines() if line.startswith("rm ") for p in line.split()[2:]]
    assert {"results", "logs", "data", ".snakemake", "report.html"} <= set(paths)
    tracked = subprocess.run(
        ["git", "ls-files", "--", *paths], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert tracked == "", f"make clean would delete tracked files:\n{tracked}"


def test_makefile_points_to_readme_sections_that_exist():
    readme = (REPO / "README.md").read_text()
    headings = {m.strip() for m in re.findall(r"^#+ (.+)$", readme, flags=re.M)}
    refs = re.findall(r'README(?:\.md)?, "([^"]+)"', (REPO / "Makefile").read_text())
    assert refs
    for ref in refs:
        assert ref in headings, f'Makefile points to README section "{ref}", which does not exist'


# ------------------------------------------------------------------------------- conda, container
def test_conda_env_is_the_cpu_lock():
    env_file = REPO / "workflow" / "envs" / "nnmat.yaml"
    text = env_file.read_text()
    assert text == conda_env.render((REQ / "cpu.txt").read_text()), "stale: run `make lock`"
    env = yaml.safe_load(text)
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    options = [e for e in pip_section if e.startswith("-")]
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]  # no -r <relative path>
    assert [e for e in pip_section if not e.startswith("-")] == lock_entries("cpu")


def test_rules_refer_to_the_env_file_that_exists():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for ref in re.findall(r'conda:\s*\n\s*"([^"]+)"', smk.read_text()):
            assert (smk.parent / ref).resolve() == REPO / "workflow" / "envs" / "nnmat.yaml", (smk, ref)


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), " ".join(args.split())))
    return out


def test_dockerfile_installs_the_cpu_lock_with_hashes():
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    known = {"FROM", "RUN", "ENV", "WORKDIR", "COPY", "CMD", "ARG", "LABEL", "ENTRYPOINT", "USER"}
    assert {i for i, _ in steps} <= known
    runs = [a for i, a in steps if i == "RUN"]
    assert any("pip install --require-hashes" in a and "-r requirements/cpu.txt" in a for a in runs)
    assert any("pip install --no-deps --no-build-isolation -e" in a for a in runs)
    for args in (a for i, a in steps if i == "COPY"):
        *sources, _dest = args.split()
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv/" in ignored and "results/" in ignored


def test_the_repository_cites_only_what_it_contains():
    """A clone has no workspace around it: no path outside the repository, no internal labels."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    bad = re.compile(r"\.\./shared|FACTS\.md|DESIGN\.md|\((?:paper )?00[0-4]\)|paper 00[0-4]|\bissue:")
    hits = []
    for name in tracked:
        path = REPO / name
        if path.suffix in {".png", ".pdf"} or name == "tests/test_install.py" or not path.is_file():
            continue
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if bad.search(line):
                hits.append(f"{name}:{lineno}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)
