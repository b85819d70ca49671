"""What ``leaklab attach`` was asked for: how long, which stacks, which load, which way in."""

from __future__ import annotations

from dataclasses import dataclass

from .methods import AUTO


@dataclass(frozen=True, slots=True)
class AttachOptions:
    duration_s: int
    native: bool = False
    users: int = 0  # Locust StoryUsers this command drives meanwhile; 0 = the lab's own load
    wait_s: float = 0.1
    method: str = AUTO  # how memray gets in (methods.py): auto tries each until one attaches
