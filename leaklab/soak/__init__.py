"""``leaklab soak``: the fixed modes under sustained load, judged against pass criteria (RELIABILITY.md)."""
