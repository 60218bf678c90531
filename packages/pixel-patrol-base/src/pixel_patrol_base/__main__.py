"""``python -m pixel_patrol_base`` = ``pixel-patrol`` (used by pixel-patrol-slurm)."""

from pixel_patrol_base.cli import entry

entry()
