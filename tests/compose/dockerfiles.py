"""What a Dockerfile builds on: its upstream base images, not the names of its own stages."""

from __future__ import annotations

import re
from pathlib import Path


def base_images(dockerfile: Path) -> list[str]:
    """The ``FROM`` images of ``dockerfile`` that are pulled, leaving out ``FROM <earlier stage>``."""
    text = dockerfile.read_text()
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE | re.IGNORECASE))
    return [image for image in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE) if image not in stages]
