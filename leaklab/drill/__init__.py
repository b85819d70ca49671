"""``leaklab drill``: the lab hides which leak runs; the learner finds it with the lab's tools; the lab grades.

``catalogue`` knows each scenario's leaking line, function and class from the API's own source;
``grading`` parses and grades answers; ``mailbox`` lets ``leaklab drill answer``/``hint`` reach a drill
running in another terminal; ``lab`` runs the hidden API under load and applies the fix; ``record``
writes the grade and the timeline; ``cli`` is the conversation.
"""
