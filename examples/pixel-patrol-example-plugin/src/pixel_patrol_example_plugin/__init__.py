"""A minimal Pixel Patrol plugin: one leaf processor, ``example-saturation``."""

from pixel_patrol_example_plugin.saturation import Saturation

__all__ = ["Saturation"]
