"""The two commands, CI and the two environment descriptions stay in step."""

from __future__ import annotations

import re
import tomllib

import yaml
from notebooks import ROOT
from packaging.requirements import Requirement

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# conda-forge names that differ from the PyPI names
CONDA_NAMES = {"pyyaml": "pyyaml"}
# on PyPI but not on conda-forge: environment.yml installs them in its pip section (their
# versions are checked against pyproject.toml with the rest)
PIP_ONLY = {"sphinx-mathjax-offline", "playwright"}


def _pyproject_requirements() -> dict[str, str]:
    project = PYPROJECT["project"]
    requirements = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        requirements += [r for r in group if not r.startswith("cnnlib")]
    parsed = (Requirement(r) for r in requirements)
    return {CONDA_NAMES.get(r.name.lower(), r.name.lower()): str(r.specifier) for r in parsed}


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def test_environment_yml_lists_the_same_packages_and_versions_as_pyproject():
    conda = {}
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):  # the pip section: packages conda-forge lacks
            entries = [e for e in entry["pip"] if e != "-e ."]
        elif entry != "pip" and not entry.startswith("python"):
            entries = [entry]
        else:
            entries = []
        for line in entries:
            name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", line).groups()
            conda[name.lower()] = spec.replace(" ", "")
    expected = {
        name: ",".join(sorted(spec.split(","))) for name, spec in _pyproject_requirements().items()
    }
    got = {name: ",".join(sorted(spec.split(","))) for name, spec in conda.items()}
    assert got == expected


def test_environment_yml_installs_cnnlib_from_the_repository_with_pip():
    environment = _environment()
    assert environment["channels"] == ["conda-forge"]
    pip_section = next(e for e in environment["dependencies"] if isinstance(e, dict))
    assert pip_section["pip"][-1] == "-e ."
    assert {Requirement(line).name for line in pip_section["pip"][:-1]} <= PIP_ONLY
    python = next(
        e for e in environment["dependencies"] if isinstance(e, str) and e.startswith("python")
    )
    assert python.replace("python", "") == PYPROJECT["project"]["requires-python"]


def test_jupyter_book_is_pinned_to_the_1x_line():
    book = PYPROJECT["project"]["optional-dependencies"]["book"]
    assert "jupyter-book==1.0.4.post1" in book


def test_constraints_pin_every_direct_dependency():
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.lower().replace("_", "-")] = version
    for name in _pyproject_requirements():
        assert name.replace("_", "-") in pinned, f"{name} is not pinned in constraints.txt"


def test_readme_states_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make book" in readme
    assert "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert "make test" in commands, ".ci/run must call the README's test command itself"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test: install-test\n\t\$\(PY\) -m pytest$", makefile, re.MULTILINE)
    assert re.search(
        r"^book: install-book\n\t\$\(BIN\)/jupyter-book build \. -W -n --keep-going$",
        makefile,
        re.MULTILINE,
    )


def test_pytest_runs_strict_nbval_and_never_collects_build_output():
    options = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "--nbval" in options["addopts"]
    assert "--nbval-lax" not in options["addopts"]
    assert "--nbval-current-env" in options["addopts"]
    assert "--nbval-sanitize-with=tests/nbval_sanitize.cfg" in options["addopts"]
    assert {"_build", "learner", ".venv"} <= set(options["norecursedirs"])
