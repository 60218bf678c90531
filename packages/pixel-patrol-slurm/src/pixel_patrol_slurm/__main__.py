"""``python -m pixel_patrol_slurm``: same as the ``pixel-patrol-slurm`` command."""

from pixel_patrol_slurm.cli import main

if __name__ == "__main__":
    main()
