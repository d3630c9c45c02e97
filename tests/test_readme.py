"""Every setting, CLI command and make target is documented truly, and pre-commit runs what
`make lint` runs."""

import re
from pathlib import Path

import typer
import yaml

from app.cli import app
from app.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


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


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", MAKEFILE, re.MULTILINE))


def recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with the venv's path written out."""
    body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert body is not None, target
    return [line.strip().replace("$(BIN)/", ".venv/bin/") for line in body.group(1).splitlines()]


def test_every_documented_make_target_exists() -> None:
    targets = make_targets()
    for doc in ("README.md", "CONTRIBUTING.md"):
        for target in re.findall(r"`make ([a-z][\w.-]*)", (ROOT / doc).read_text()):
            assert target in targets, f"{doc}: make {target}"


def test_pre_commit_runs_what_make_lints() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    entries = {hook["entry"] for hook in hooks}
    for command in recipe("lint") + recipe("typecheck"):
        assert command in entries, command


def test_readme_links_contributing_and_changelog() -> None:
    assert "(CONTRIBUTING.md)" in README
    assert "(CHANGELOG.md)" in README
