"""Today's date for the rules that compare against AWS calendars.

A module of its own, imported normally, because cfn-lint re-imports the rule
files by path on every run: a test can monkeypatch `today` here, in-process,
and the rules see it.
"""

from __future__ import annotations

import datetime


def today() -> datetime.date:
    return datetime.date.today()
