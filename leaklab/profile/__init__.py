"""``leaklab profile``: the API under memray with load (``command``), and what the capture says (``memray_summary``)."""
