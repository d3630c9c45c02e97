"""Every setting and every CLI command is documented in the README."""

from pathlib import Path

import typer

from app.cli import app
from app.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def command_paths(typer_app: typer.Typer, prefix: str = "policydb") -> list[str]:
    paths = []
    for command in typer_app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append(f"{prefix} {name.replace('_', '-')}")
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        paths.extend(command_paths(group.typer_instance, f"{prefix} {group.name}"))
    return paths


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"POLICYDB_{name.upper()}" in README, name


def test_every_command_is_documented() -> None:
    paths = command_paths(app)
    assert "policydb keys create" in paths
    for path in paths:
        words = path.split()
        # "policydb db upgrade" may be written "db upgrade" in a row that starts "policydb db ..."
        assert path in README or " ".join(words[1:]) in README, path
