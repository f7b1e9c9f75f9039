"""`privacy-course grade --watch`: for self-paced cohorts, collect, grade and return feedback as
submissions arrive, until stopped.

Everything it knows comes from the folders, the gradebook and the grading record, so it is safe
to stop and start again at any time. A submission whose grading failed for a reason that may pass
(a kernel or worker that died) is tried again on later rounds, a bounded number of times
(`privacy_course.grading.autograde.RETRIES`); one that cannot pass (a damaged file) waits for the
learner's next submission.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from privacy_course.coursedir import Cohort
from privacy_course.facilitator.cohort import collect, feedback
from privacy_course.grading.autograde import Outcome, grade


def watch(
    cohort: Cohort,
    modules: list[str],
    interval: float = 60.0,
    cycles: int | None = None,
    workers: int | None = None,
    say: Callable[[str], object] = print,
) -> int:
    """Run rounds until stopped (Ctrl-C or SIGTERM) or after `cycles` rounds; return how many
    submissions it graded."""
    stop = threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests): rely on `cycles`
            pass
    graded = 0
    done_cycles = 0
    try:
        while not stop.is_set():
            for module_id in modules:
                collect(cohort, module_id)
            outcomes = grade(cohort, modules, workers=workers, only_new=True,
                             progress=_Silent())
            for outcome in outcomes:
                if outcome.ok:
                    feedback(cohort, outcome.module_id, outcome.learner)
                    say(f"graded and returned feedback: {outcome.learner} {outcome.module_id}")
                else:
                    action = getattr(outcome.problem, "action", "")
                    say(f"PROBLEM: {outcome.learner} {outcome.module_id}: {outcome.problem}"
                        + (f". What to do: {action}" if action else ""))
            graded += len(outcomes)
            done_cycles += 1
            if cycles is not None and done_cycles >= cycles:
                break
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return graded


class _Silent:
    def step(self, outcome: Outcome) -> None:
        pass
