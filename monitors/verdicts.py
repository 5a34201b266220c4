"""Is it down? Pure judgement of one monitor's run of results: values in, a Step out; no model.

A monitor is called down after `down_after` failed checks in a row and up again after
`up_after` good ones, so one lost packet does not wake anybody. A first good check of a
monitor never seen before makes it up at once when up_after is 1 (the default).
"""

from dataclasses import dataclass

UP, DOWN, UNKNOWN = "up", "down", "unknown"


@dataclass(frozen=True)
class Step:
    """Where a monitor stands after one more result."""

    state: str
    failures: int  # failed checks in a row
    successes: int  # good checks in a row

    def changed_from(self, state):
        return self.state != state


def judge(state, failures, successes, ok, *, down_after, up_after):
    """The monitor's state after one more result (`ok`), given its state and runs so far."""
    if ok:
        successes, failures = successes + 1, 0
        if state != UP and successes >= up_after:
            state = UP
    else:
        failures, successes = failures + 1, 0
        if state != DOWN and failures >= down_after:
            state = DOWN
    return Step(state, failures, successes)
