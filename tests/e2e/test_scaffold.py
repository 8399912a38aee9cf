"""`fediflow connectors new`: the generated package installs, registers itself and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.cli._scaffold import new, scaffold_app
from hub.errors import ConfigurationError
from hub.scaffold import generate_connector

PIP = [sys.executable, "-m", "pip"]


def _app() -> typer.Typer:
    """The command as the lead wires it: ``connectors_app.command("new")(new)``."""
    app = typer.Typer(name="connectors")
    app.command("new")(new)
    app.command("list")(lambda: None)  # a second command keeps "new" a sub-command, as in the real group
    return app


def test_cli_writes_the_package(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["new", "acme_sis", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "fediflow-acme-sis"
    expected = {
        "pyproject.toml", "README.md", "fediflow_acme_sis/__init__.py", "fediflow_acme_sis/connector.py",
        "fediflow_acme_sis/plugin.py", "fediflow_acme_sis/mappings/acme_sis/users.yaml", "tests/conftest.py",
        "tests/test_acme_sis.py", "tests/cassettes/acme_sis_contract.yaml",
    }
    assert {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} == expected
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "fediflow-acme-sis"' in pyproject and "fediflow>=" in pyproject
    assert '[project.entry-points.fediflow]\nacme_sis = "fediflow_acme_sis.plugin"' in pyproject
    code = (root / "fediflow_acme_sis/connector.py").read_text()
    assert len(code.splitlines()) < 50 and "from hub.sdk import" in code
    assert "class AcmeSisConnector(HttpConnector[AcmeSisConnectorConfig])" in code
    assert "class TestAcmeSisConnectorContract(ConnectorContract)" in (root / "tests/test_acme_sis.py").read_text()
    assert "created" in result.output and "pip install -e" in result.output


def test_cli_writes_a_file_connector(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["new", "acme_files", "--kind", "file", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "fediflow-acme-files"
    files = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert "tests/data/users.csv" in files and not any("cassettes" in f for f in files)
    code = (root / "fediflow_acme_files/connector.py").read_text()
    assert len(code.splitlines()) < 60
    assert "class AcmeFilesConnector(Connector[AcmeFilesConnectorConfig])" in code and "http" not in code.lower()
    assert "--set folder=" in (root / "README.md").read_text()


def test_bad_names_and_existing_folders_are_refused(tmp_path: Path) -> None:
    for bad in ("Acme", "1acme", "acme-sis", "", "a" * 60):
        with pytest.raises(ConfigurationError):
            generate_connector(bad, tmp_path)
    with pytest.raises(ConfigurationError, match="kind"):
        generate_connector("acme", tmp_path, kind="ftp")
    generate_connector("dup", tmp_path)
    with pytest.raises(ConfigurationError, match="already exists"):
        generate_connector("dup", tmp_path)
    result = CliRunner().invoke(scaffold_app, ["new", "Bad-Name", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "lower_snake" in result.output


@pytest.fixture(params=["http", "file"])
def installed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A freshly generated package of each kind, pip-installed (editable) into this venv, uninstalled afterwards."""
    name = f"scaffoldcheck_{request.param}_{uuid.uuid4().hex[:8]}"
    result = generate_connector(name, tmp_path, kind=request.param)
    install = subprocess.run(
        [*PIP, "install", "-q", "--no-deps", "-e", str(result.root)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    try:
        yield name, result.root
    finally:
        subprocess.run([*PIP, "uninstall", "-q", "-y", result.dist], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_generated_package_installs_and_passes_its_own_tests(installed: tuple[str, Path]) -> None:
    name, root = installed
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "FEDIFLOW_"))}
    # outside the hub's source tree: the package and hub are found as installed distributions
    probe = subprocess.run(
        [sys.executable, "-c",
         "from importlib.metadata import entry_points\n"
         f"ep = [e for e in entry_points(group='fediflow') if e.name == '{name}'][0]\n"
         "module = ep.load()\n"
         "print(module.register_connectors()[0].name, module.register_mapping_folders()[0].is_dir())"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [name, "True"]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "7 passed" in tests.stdout
