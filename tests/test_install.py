"""Installing outside the repository gets our packages, never the registry's of the same name.

The public registry holds another project's ``pixel-patrol*`` packages (0.8 - 1.0.1). Our
packages share one version with a local label (``+src``), which no public index accepts, and
pin each other to it exactly: a resolver can satisfy those pins only with wheels built from
this repository. Every install command we print or document carries that pin (or a path).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pixel_patrol_base import __version__, plugins
from pixel_patrol_base.errors import PluginError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted((ROOT / "packages").glob("*/pyproject.toml"))
OURS = re.compile(r"pixel-patrol(?:-[a-z-]+)?")


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def test_our_packages_share_one_version_that_no_public_index_can_hold() -> None:
    versions = {_project(p)["name"]: _project(p)["version"] for p in PACKAGES}
    assert len(versions) == 5 and set(versions.values()) == {__version__}
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[a-z0-9.]+", __version__), __version__


@pytest.mark.parametrize("pyproject", PACKAGES, ids=lambda p: p.parent.name)
def test_dependencies_between_our_packages_are_exact_pins(pyproject: Path) -> None:
    for req in _project(pyproject)["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", req)
        assert name is not None
        if OURS.fullmatch(name.group(0)):
            extras = req[len(name.group(0)) :].split("==")[0]
            assert extras in ("", "[report]") and req == f"{name.group(0)}{extras}=={__version__}", req


def test_the_bundle_pins_all_four_packages() -> None:
    deps = _project(ROOT / "packages" / "pixel-patrol" / "pyproject.toml")["dependencies"]
    names = ("pixel-patrol-base[report]", "pixel-patrol-loader-bio", "pixel-patrol-image", "pixel-patrol-slurm")
    assert sorted(deps) == sorted(f"{n}=={__version__}" for n in names)


def test_a_missing_plugin_names_a_command_that_installs_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "_entry_points", lambda group: {})
    plugins._load_class.cache_clear()
    try:
        with pytest.raises(PluginError) as err:
            plugins.get_loader("bioio")
    finally:
        plugins._load_class.cache_clear()
    text = str(err.value)
    assert text.startswith("loader 'bioio' is not installed; it comes with pixel-patrol-loader-bio:")
    assert f"pip install --find-links <wheels> 'pixel-patrol-loader-bio=={__version__}'" in text
    assert "uv build --all-packages" in text and "\n" not in text


def _code_lines(path: Path) -> list[str]:
    """Lines a reader would run: code blocks of Markdown files, every line of other files.

    Continued lines (ending in a backslash) are joined. Prose that warns against a command is
    not a command.
    """
    text = path.read_text().replace("\\\n", " ")
    if path.suffix != ".md":
        return text.splitlines()
    out, inside = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            out.append(line)
    return out


def _install_commands() -> list[tuple[str, str]]:
    """``(file, line)`` for every command in code or docs that installs with pip or uv."""
    files = [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("packages/*/README.md"),
             *ROOT.glob("examples/**/*.md"), *ROOT.glob("packages/*/src/**/*.py"), ROOT / ".ci" / "run"]
    out = []
    for path in files:
        for line in _code_lines(path):
            if re.search(r"\b(pip install|uv tool install|uv pip install)\b", line):
                out.append((str(path.relative_to(ROOT)), line))
    return out


def _requirements(line: str) -> list[str]:
    """Tokens after each install command up to the next shell separator or comment.

    Names given to ``--with-executables-from`` are already requirements, not new ones.
    """
    out = []
    for match in re.finditer(r"\b(?:pip install|uv tool install|uv pip install)\b([^;&|#]*)", line):
        tokens = match.group(1).split()
        out += [t for i, t in enumerate(tokens) if i == 0 or tokens[i - 1] != "--with-executables-from"]
    return out


def test_no_command_installs_our_names_from_the_registry() -> None:
    """A package name of ours in an install command is pinned to our version, or is a path."""
    commands = _install_commands()
    assert len(commands) > 5
    for where, line in commands:
        if "ref-venv" in line:  # the public reference tool, installed on purpose for benchmarks
            continue
        for token in _requirements(line):
            token = token.strip("'\"`,")
            if not OURS.match(token):  # paths (./packages/...), wheels, flags, other packages
                continue
            pinned = token.endswith((f"=={__version__}", "==$VERSION")) or "{" in token
            assert pinned, f"{where}: unpinned install of {token!r}: {line.strip()}"
