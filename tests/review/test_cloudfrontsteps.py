"""Which deploy of a change is a step of turning CloudFront on, and what it sends."""

import pytest

from threetier.review import cloudfrontsteps

OFF = {"CloudFrontEnabled": "false", "CloudFrontOnly": "true"}
OPEN = {"CloudFrontEnabled": "true", "CloudFrontOnly": "false"}
CLOSED = {"CloudFrontEnabled": "true", "CloudFrontOnly": "true"}


@pytest.mark.parametrize("deployed,wanted,number,sent", [
    (OFF, CLOSED, 1, "false"),      # on for a live stack: step 1 keeps it open
    (OPEN, CLOSED, 2, "true"),      # the next deploy closes it
    (None, CLOSED, None, None),     # a new stack: nobody uses it yet
    (CLOSED, CLOSED, None, None),   # already behind CloudFront
    (OFF, OPEN, None, None),        # the file asks for step 1 itself: sent as it is
    (OPEN, OPEN, None, None),       # held at step 1 on purpose
    (CLOSED, OFF, None, None),      # off: one deploy
    (OPEN, OFF, None, None),
])
def test_the_step_and_what_it_sends(deployed, wanted, number, sent):
    step = cloudfrontsteps.step(deployed, wanted)
    assert (step and step.number) == number
    if step:
        assert step.values == {**wanted, "CloudFrontOnly": sent}


def test_step_1_says_the_next_deploy_finishes_and_step_2_says_what_closes():
    first = cloudfrontsteps.step(OFF, CLOSED)
    assert any("run `threetier deploy prod` again" in line for line in first.lines("prod"))
    assert "Run `threetier deploy prod` again to finish" in first.finished("prod")
    second = cloudfrontsteps.step(OPEN, CLOSED)
    assert "403 without the origin header" in " ".join(second.lines("prod"))


def test_halfway_is_only_step_1_deployed():
    assert cloudfrontsteps.halfway(OPEN, "prod")
    assert cloudfrontsteps.halfway(CLOSED, "prod") is None
    assert cloudfrontsteps.halfway(OFF, "prod") is None
