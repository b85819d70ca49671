"""leaklab's local lab: run the API under load as plain processes, compare modes, report, benchmark."""

from leaklab_api import __version__

__all__ = ["__version__"]
