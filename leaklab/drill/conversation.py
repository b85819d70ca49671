"""What the drill says and how it answers: hints, answers and giving up, from stdin or the mailbox."""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Leak
from .grading import grade, parse
from .record import Record

MAX_ATTEMPTS = 3  # wrong answers before the drill reveals the leak (malformed ones do not count)


def hints(leak: Leak, url: str, port: int) -> list[str]:
    """From general to specific: each one used is noted in the grade."""
    if leak.kind == "native":
        second = (
            "Compare what tracemalloc sees with what the process holds: in GET /debug/memory, traced growth stays "
            "small while RSS grows. Memory from C is invisible to tracemalloc: "
            f"`leaklab attach --port {port} --native` names the C call and the Python line that made it."
        )
    else:
        second = (
            "tracemalloc sees this one: in GET /debug/memory the traced growth follows RSS, and the top site "
            "names the line (for a site inside a library, its `caller` is the line in our code)."
        )
    return [
        f"Memory first: process_resident_memory_bytes at {url}/metrics climbs with the traffic. Then ask which "
        f"line keeps it: curl -X POST {url}/debug/memory/start, wait 20 s, curl {url}/debug/memory.",
        second,
        f"The leak is in {leak.path}.",
    ]


@dataclass
class Conversation:
    """Turns one message (a line typed here, or one from ``leaklab drill answer``) into a reply."""

    leak: Leak
    record: Record
    hint_texts: list[str]
    done: bool = False

    def handle(self, text: str) -> str:
        words = text.strip().split()
        if not words:
            return ""
        if words[0].lower() == "answer":
            words = words[1:]
        command = " ".join(words).lower()
        if command in ("hint", "hints"):
            return self._hint()
        if command in ("give up", "giveup", "reveal", "quit", "exit"):
            self.record.outcome = "gave up"
            self.record.note("gave up")
            self.done = True
            return "You gave up: here is the leak."
        result = grade(parse(" ".join(words)), self.leak, seconds=self.record.elapsed_s(), hints=len(self.record.hints))
        self.record.grades.append(result)
        self.record.note("answer", answer=result.answer, correct=result.correct, where=result.where)
        if result.where == "malformed":
            return f"Not understood ({result.feedback}). Try again."
        if result.correct:
            self.record.outcome = "correct"
            self.done = True
            return f"Correct after {result.seconds:.0f} s with {result.hints} hint(s): {result.feedback}."
        attempts = sum(1 for g in self.record.grades if g.where != "malformed")
        if attempts >= MAX_ATTEMPTS:
            self.record.outcome = "wrong"
            self.done = True
            return f"Not correct: {result.feedback}. That was the last of {MAX_ATTEMPTS} attempts."
        return f"Not correct: {result.feedback}. {MAX_ATTEMPTS - attempts} attempt(s) left; `hint` helps."

    def _hint(self) -> str:
        if len(self.record.hints) >= len(self.hint_texts):
            return "No more hints: answer, or `give up` to see the leak."
        text = self.hint_texts[len(self.record.hints)]
        self.record.hints.append(text)
        self.record.note("hint", number=len(self.record.hints))
        return f"Hint {len(self.record.hints)} of {len(self.hint_texts)}: {text}"
