"""Developer sessions: `nox -s tests`, `lint`, `typecheck`, `deep`, `bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite with the fast hypothesis profile (what CI runs)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs, env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session(python=PYTHON)
def deep(session: nox.Session) -> None:
    """Run the suite with the deep hypothesis profile (many more examples per property)."""
    session.install("-e", ".[test]")
    # Deep properties run hundreds of examples each: lift the per-test timeout of pyproject.
    session.run("pytest", "--timeout=1800", *session.posargs, env={"HYPOTHESIS_PROFILE": "deep"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmarks of BENCHMARKS.md (pass --quick for a smoke run)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/run.py", *session.posargs)
