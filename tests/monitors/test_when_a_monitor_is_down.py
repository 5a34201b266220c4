"""When is a monitor down? Pure judgement, no database: N failures in a row, M successes to come back."""

from hypothesis import given
from hypothesis import strategies as st

from monitors.verdicts import DOWN, UNKNOWN, UP, judge


def run(results, *, state=UNKNOWN, down_after=2, up_after=1):
    failures = successes = 0
    states = []
    for ok in results:
        step = judge(state, failures, successes, ok, down_after=down_after, up_after=up_after)
        state, failures, successes = step.state, step.failures, step.successes
        states.append(state)
    return states


def test_one_lost_check_is_not_an_outage():
    assert run([True, False, True, False, True]) == [UP, UP, UP, UP, UP]


def test_two_failures_in_a_row_are():
    assert run([True, False, False]) == [UP, UP, DOWN]


def test_a_new_monitor_that_fails_is_down_after_two_checks_not_one():
    assert run([False, False]) == [UNKNOWN, DOWN]


def test_coming_back_can_need_several_good_checks():
    assert run([False, False, True, True, True], down_after=2, up_after=3) == [UNKNOWN, DOWN, DOWN, DOWN, UP]


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 5), st.integers(1, 5))
def test_a_state_changes_only_after_its_run_of_results(results, down_after, up_after):
    states = run(results, down_after=down_after, up_after=up_after)
    for i, state in enumerate(states):
        before = states[i - 1] if i else UNKNOWN
        if state == DOWN and before != DOWN:
            assert results[i - down_after + 1 : i + 1] == [False] * down_after
        if state == UP and before != UP:
            assert results[i - up_after + 1 : i + 1] == [True] * up_after
