"""What a tracker's workflow state means for a plan, and cycle times from its closed items.

States are matched without case, spaces, dashes and apostrophes:

- done (complete, with its actual dates): Closed, Done, Resolved, Complete(d), Finished;
- removed (left out of the plan): Removed, Won't Do, Won't Fix, Cancelled, Rejected,
  Duplicate, Obsolete;
- active (started): Active, In Progress, Doing, In Review, Committed, Testing, Started;
- new (not started): New, To Do, Open, Backlog, Planned, Proposed, Approved, Not Started,
  Ready, Selected for Development.

Any other state is read from the dates (a finish: done; a start: active; else new).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

__all__ = ["DONE", "REMOVED", "STARTED", "TODO", "classify", "working_days"]

DONE, REMOVED, STARTED, TODO = "done", "removed", "active", "new"
_STATES = {
    DONE: ("closed", "done", "resolved", "complete", "completed", "finished"),
    REMOVED: (
        *("removed", "wontdo", "wontfix", "cancelled", "canceled", "rejected", "duplicate"),
        "obsolete",
    ),
    STARTED: ("active", "inprogress", "doing", "inreview", "committed", "testing", "started"),
    TODO: (
        *("new", "todo", "open", "backlog", "planned", "proposed", "approved", "notstarted"),
        *("ready", "selectedfordevelopment"),
    ),
}
_BY_WORD = {word: kind for kind, words in _STATES.items() for word in words}


def classify(state: str) -> str | None:
    """``done``, ``removed``, ``active`` or ``new`` for a workflow state; None if unknown."""
    return _BY_WORD.get(re.sub(r"[\s\-_'\u2019]+", "", state).casefold())


def working_days(start: dt.date, finish: dt.date, week: str = "1111100") -> int:
    """Working days (``week``: a Mon..Sun mask) from ``start`` to ``finish``, both counted:
    the time a complete item takes on the plan's clock, where actual dates are whole days
    (a same-day item: 1)."""
    return int(np.busday_count(start, finish + dt.timedelta(days=1), weekmask=week))
