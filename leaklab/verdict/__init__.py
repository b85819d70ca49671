"""The verdict: one judge of a memory series (leaking, bounded or inconclusive), used by every command.

``judge(series, context)`` is the whole interface; ``model`` holds what it reads and answers, ``rules``
the thresholds and the sentences that state them.
"""

from .judge import judge
from .model import BOUNDED, INCONCLUSIVE, LEAKING, VERDICTS, Context, Series, Verdict

__all__ = ["BOUNDED", "INCONCLUSIVE", "LEAKING", "VERDICTS", "Context", "Series", "Verdict", "judge"]
