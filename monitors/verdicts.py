"""Is it down? Pure judgement of one monitor's run of results: values in, a Step out; no model.

A monitor is called down after `down_after` failed checks in a row and up again after
`up_after` good ones, so one lost packet does not wake anybody. A first good check of a
monitor never seen before makes it up at once when up_after is 1 (the default).

Flapping: a monitor that keeps going down and up would open and resolve an incident, and alert
someone, each time. One that has changed state `flap_changes` times within FLAP_WINDOW (its
latest fall included) is flapping, and comes back only after `quiet` of good checks in a row
(flap_up_after): until then it stays down, so the incident stays one and open, nobody is woken
again, and no transition row is written per flip.

Who watches the watcher: checks that last ran longer ago than three of the shortest interval
(checks_are_stale) mean the checker itself has stopped.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

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


# How far back flapping looks.
FLAP_WINDOW = timedelta(minutes=30)


def is_flapping(changes, *, flap_changes):
    """True when `changes` (up↔down changes of state within FLAP_WINDOW) make a monitor flapping."""
    return changes >= flap_changes


def flap_up_after(up_after, interval, quiet):
    """Good checks in a row a flapping monitor needs to come back: its own up_after, or `quiet` of them."""
    return max(up_after, math.ceil(quiet / interval))


# Checks that last ran longer ago than this many intervals mean the checker has stopped.
STALE_AFTER_INTERVALS = 3
# The interval assumed when no enabled monitor says.
DEFAULT_INTERVAL = timedelta(minutes=1)


def stale_after(shortest_interval):
    """How old the last checks may be before the checker counts as stopped: three of the shortest interval."""
    return STALE_AFTER_INTERVALS * (shortest_interval or DEFAULT_INTERVAL)


def checks_are_stale(last_ran, now, shortest_interval):
    """True when the checks last ran (`last_ran`, None if never) longer ago than stale_after() allows."""
    return last_ran is None or now - last_ran > stale_after(shortest_interval)
