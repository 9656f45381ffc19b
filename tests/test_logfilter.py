"""One test per rule of CloudWatch Logs filter-pattern matching that tests/logfilter.py implements
(its docstring cites the page), and why moto's own matcher is not used for the project's pattern."""

from __future__ import annotations

import pytest
from moto.logs.utils import EventMessageFilter

from tests import logfilter

EVENT = """pymysql.err.OperationalError: (2003, "Can't connect to MySQL server on 'db' (timed out)")"""


def test_a_quoted_term_matches_its_exact_text_spaces_and_punctuation_included():
    assert logfilter.matches('"Can\'t connect to MySQL server"', EVENT)
    assert not logfilter.matches('"Cant connect to MySQL server"', EVENT)
    assert not logfilter.matches('"connect to  MySQL"', EVENT), "two spaces are not one"


def test_question_marks_match_an_event_with_any_of_the_terms():
    assert logfilter.matches('?"Access denied" ?"timed out"', EVENT)
    assert logfilter.matches('?"timed out" ?"Access denied"', EVENT)


def test_terms_without_question_marks_must_all_appear():
    assert logfilter.matches('"OperationalError" "timed out"', EVENT)
    assert not logfilter.matches('"OperationalError" "Access denied"', EVENT)


def test_matching_is_case_sensitive():
    assert not logfilter.matches('"can\'t connect to mysql server"', EVENT)
    assert not logfilter.matches('?"TIMED OUT"', EVENT)


def test_an_event_with_none_of_the_terms_does_not_match():
    assert not logfilter.matches('?"Access denied" ?"gone away"', EVENT)


@pytest.mark.parametrize("pattern", ["ERROR", '-"ERROR"', '%err.r%', '{ $.level = "error" }', '[ip, user]',
                                     '?"a" "b"', ""])
def test_patterns_outside_the_subset_are_refused(pattern):
    with pytest.raises(logfilter.UnsupportedPattern):
        logfilter.matches(pattern, EVENT)


def test_moto_matches_every_event_for_or_terms():
    """Why the project has its own: moto's filter takes a leading `?` for an unsupported pattern and
    matches everything, a 200 access line included. If this fails, moto learnt OR terms: use it."""
    access = '10.0.1.5 - - [30/Nov/2026:09:41:02 +0000] "GET / HTTP/1.1" 200 3 "-" "ELB-HealthChecker/2.0"'
    assert EventMessageFilter('?"Access denied" ?"gone away"').matches(access)
    assert not logfilter.matches('?"Access denied" ?"gone away"', access)


@pytest.mark.parametrize("term", ["Can't connect to MySQL server", "timed out", "can't connect", "(2003"])
def test_a_single_quoted_term_agrees_with_moto_where_moto_covers_it(term):
    pattern = '"' + term + '"'
    for event in (EVENT, EVENT.lower(), "an unrelated line"):
        assert logfilter.matches(pattern, event) == EventMessageFilter(pattern).matches(event), (term, event)
