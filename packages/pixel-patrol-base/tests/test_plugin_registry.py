"""The plugin registry's error paths: every failure is one PluginError naming the plugin, its
distribution and the next step (what is available, what to install), never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from plugin_fixtures import MeanProc, install_distribution

from pixel_patrol_base import __version__, plugins
from pixel_patrol_base.errors import PluginError

BROKEN = {
    "gone-module": "no_such_module_anywhere:Proc",
    "gone-class": "plugin_fixtures:NoSuchClass",
    "renamed": "plugin_fixtures:MeanProc",  # the class's NAME is acme-mean
    "needs-args": "test_plugin_registry:NeedsArgs",
}


class NeedsArgs(MeanProc):
    """A processor whose constructor needs an argument the registry cannot give."""

    NAME: ClassVar[str] = "needs-args"

    def __init__(self, scale: float) -> None:
        self.scale = scale


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The distribution ``broken-plugins 2.5`` whose processors all fail to load."""
    site = tmp_path / "site"
    install_distribution(site, "broken-plugins", "2.5", {plugins.PROCESSOR_GROUP: BROKEN})
    monkeypatch.syspath_prepend(str(site))
    plugins.refresh()
    yield
    plugins.refresh()


def error_of(name: str) -> str:
    with pytest.raises(PluginError) as info:
        plugins.get_processor(name)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_unknown_id_lists_what_is_available() -> None:
    with pytest.raises(PluginError) as info:
        plugins.get_loader("no-such-loader")
    available = ", ".join(plugins.available_ids(plugins.LOADER_GROUP)) or "none installed"
    assert str(info.value) == f"unknown loader 'no-such-loader'; available: {available}"


def test_a_plugin_of_our_packages_that_is_missing_names_the_pinned_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(plugins.KNOWN_PACKAGES, "acme-only-in-pkg", "pixel-patrol-acme")
    with pytest.raises(PluginError) as info:
        plugins.get_processor("acme-only-in-pkg")
    text = str(info.value)
    assert text.startswith("processor 'acme-only-in-pkg' is not installed; it comes with pixel-patrol-acme:")
    assert f"'pixel-patrol-acme=={__version__}'" in text  # never a bare install of the name


def test_an_entry_point_whose_module_fails_to_import(broken: None) -> None:
    assert error_of("gone-module") == (
        "processor 'gone-module' (from broken-plugins 2.5) failed"
        " to import: ModuleNotFoundError: No module named 'no_such_module_anywhere'"
    )


def test_an_entry_point_naming_a_missing_class(broken: None) -> None:
    text = error_of("gone-class")
    assert text.startswith("processor 'gone-class' (from broken-plugins 2.5")
    assert "failed to import: AttributeError" in text and "NoSuchClass" in text


def test_an_entry_point_whose_class_has_another_name(broken: None) -> None:
    assert error_of("renamed").endswith("the entry point names a class whose NAME is 'acme-mean'")


def test_a_class_that_needs_constructor_arguments(broken: None) -> None:
    text = error_of("needs-args")
    assert "cannot be created without arguments: TypeError" in text and "scale" in text


def test_unselected_broken_processors_are_skipped_but_asked_for_ones_stop(
    broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    chosen = plugins.select_processors()
    names = [p.NAME for p in chosen]
    assert not set(BROKEN) & set(names)
    skipped = {n for n in BROKEN if any(f"processor '{n}'" in r.getMessage() for r in caplog.records)}
    assert skipped == set(BROKEN)
    with pytest.raises(PluginError, match="failed to import"):
        plugins.select_processors(include=["gone-module"])


def test_unknown_ids_in_exclude_are_refused_too() -> None:
    with pytest.raises(PluginError, match="unknown processor 'raster-basicc'"):
        plugins.select_processors(exclude=["raster-basicc"])


def test_origin_of_an_unknown_plugin_is_said_unknown() -> None:
    with pytest.raises(PluginError, match="unknown processor 'nope'"):
        plugins.origin(plugins.PROCESSOR_GROUP, "nope")
    assert plugins.describe(plugins.PROCESSOR_GROUP, "nope") == "processor 'nope' (from origin unknown)"


def test_register_and_unregister() -> None:
    group = plugins.PROCESSOR_GROUP
    assert "acme-mean" not in plugins.available_ids(group)
    plugins.register(group, MeanProc)
    try:
        assert "acme-mean" in plugins.available_ids(group)
        assert plugins.get_processor("acme-mean").NAME == "acme-mean"
        assert str(plugins.origin(group, "acme-mean")).endswith("plugin_fixtures:MeanProc")
    finally:
        plugins.unregister(group, "acme-mean")
    assert "acme-mean" not in plugins.available_ids(group)
    with pytest.raises(PluginError, match="unknown processor 'acme-mean'"):
        plugins.get_processor("acme-mean")
