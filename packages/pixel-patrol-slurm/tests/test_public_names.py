"""The public names of pixel-patrol-slurm, pinned.

A name added to or dropped from a public module's ``__all__`` changes what users and plugin
authors may import; it must show up here, in review. Every entry point of the distribution
(plugins, commands) names a pinned public name.
"""

from __future__ import annotations

from pixel_patrol_base.testing import check_public_names

DISTRIBUTION = "pixel-patrol-slurm"

PUBLIC = {
    "pixel_patrol_slurm": ["__version__"],
    "pixel_patrol_slurm.cli": ["app", "main"],
}


def test_public_names_are_pinned() -> None:
    check_public_names(DISTRIBUTION, PUBLIC)
