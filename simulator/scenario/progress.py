"""A task's date constraints and its progress at the status date, read from the file."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..model import TAIL, Progress, Task
from . import schema as S
from .context import Context, dist

__all__ = ["check_progress", "constraints", "progress"]


def _given(when: dt.date | float | None) -> str | None:
    return when.isoformat() if isinstance(when, dt.date) else None


def constraints(ctx: Context, task: Task, t: S.TaskSpec, loc: tuple[Any, ...]) -> Task:
    """``start_no_earlier_than`` and ``must_start_on`` hold its start back; ``must_start_on``
    and ``finish_no_later_than`` are key dates it is measured against."""
    earliest, start_by, deadline = 0.0, None, None
    if t.start_no_earlier_than is not None:
        earliest = ctx.offset(t.start_no_earlier_than, (*loc, "start_no_earlier_than"))
    if t.must_start_on is not None:
        hold = ctx.offset(t.must_start_on, (*loc, "must_start_on"))
        earliest = max(earliest, hold)
        # by the end of the day the start is held to (working day N: the day it begins)
        start_by = hold if ctx.calendar.start is None else math.floor(hold) + 1.0
    if t.finish_no_later_than is not None:
        deadline = ctx.offset(t.finish_no_later_than, (*loc, "finish_no_later_than"), end=True)
    dates = (_given(t.finish_no_later_than), _given(t.must_start_on))
    return replace(task, earliest=earliest, start_by=start_by, deadline=deadline, key_dates=dates)


def _actual(ctx: Context, t: S.TaskSpec, loc: tuple[Any, ...]) -> tuple[float, float | None]:
    """The actual start and finish as times, each checked against the status date."""
    status = ctx.calendar.status or 0.0
    assert t.actual_start is not None
    start = ctx.offset(t.actual_start, (*loc, "actual_start"))
    if start > status:
        ctx.error((*loc, "actual_start"), f"actual start {t.actual_start} is after the status date")
    if t.actual_finish is None:
        return start, None
    finish = ctx.offset(t.actual_finish, (*loc, "actual_finish"), end=True)
    if finish > status:
        ctx.error(
            (*loc, "actual_finish"),
            f"actual finish {t.actual_finish} is on or after the status date "
            f"{ctx.spec.status_date}: work after the status date has not happened yet",
        )
    if finish <= start:
        ctx.error(
            (*loc, "actual_finish"),
            f"actual finish {t.actual_finish:g} is at the actual start {t.actual_start:g}: "
            "in working days, the finish is where the work ended (a one-day task started at "
            f"{t.actual_start:g} finished at {t.actual_start + 1:g})"
            if isinstance(t.actual_finish, float)
            and isinstance(t.actual_start, float)
            and finish == start
            else f"actual finish {t.actual_finish} is before the actual start {t.actual_start}",
        )
    return start, finish


def progress(ctx: Context, task: Task, t: S.TaskSpec, loc: tuple[Any, ...]) -> Task:
    """The task with its progress at the status date (unchanged when it has none)."""
    given = {
        "actual_start": t.actual_start,
        "actual_finish": t.actual_finish,
        "remaining": t.remaining,
        "percent_complete": t.percent_complete,
    }
    named = [k for k, v in given.items() if v is not None]
    if not named:
        return task
    if ctx.spec.status_date is None:
        ctx.error((*loc, named[0]), f"{named[0]} needs the scenario's status_date")
        return task
    if t.actual_start is None:
        ctx.error((*loc, named[0]), f"{named[0]} needs actual_start (when the task started)")
        return task
    if t.actual_finish is not None and (t.remaining is not None or t.percent_complete is not None):
        key = "remaining" if t.remaining is not None else "percent_complete"
        ctx.error((*loc, key), f"{key}: a task with an actual finish has nothing remaining")
    start, finish = _actual(ctx, t, loc)
    cal, until = ctx.calendar, finish if finish is not None else ctx.calendar.status or 0.0
    elapsed = max(cal.work(task.calendar, until) - cal.work(task.calendar, start), 0.0)
    if finish is None and t.remaining is None and t.percent_complete is None:
        _check_tail(ctx, task, elapsed, (*loc, "actual_start"))
    return replace(
        task,
        progress=Progress(
            start,
            finish,
            elapsed,
            None if t.remaining is None else dist(t.remaining),
            None if t.percent_complete is None else t.percent_complete / 100,
        ),
    )


def _check_tail(ctx: Context, task: Task, elapsed: float, loc: tuple[Any, ...]) -> None:
    """Warn when a task in progress has run far longer than its duration law expects."""
    work = elapsed * task.units if task.per_unit else elapsed
    chance = task.size.sf(work)
    if chance < TAIL:
        # a bounded law's sf beyond its maximum is 0 or a rounding error (2e-16): its tail
        # draws are then the maximum, not beyond the elapsed work, and nothing remains
        tail = chance > 0 and float(task.size.isf(np.array([chance / 2]))[0]) > work
        rest = (
            "its remaining work is drawn from the law's tail beyond that"
            if tail
            else "that is beyond the law's maximum: no work is left"
        )
        ctx.warn(
            loc,
            f"{task.key} has run {elapsed:g} working days, far beyond its duration "
            f"(a chance below {TAIL:g}); {rest}. Give 'remaining' or 'percent_complete' "
            "with a fresh estimate",
        )


def check_progress(ctx: Context, tasks: list[Task]) -> None:
    """Warn of out-of-sequence progress: a task started before a predecessor had finished
    (FS) or started (SS), or finished before a predecessor had finished (FF) or started
    (SF). The simulation accepts what happened."""
    for task in tasks:
        if task.progress is None:
            continue
        for link in task.preds:
            pred = tasks[link.pred]
            if link.kind in (2, 3) and not task.complete:
                continue  # a finish constraint: still ahead of a task in progress
            needed = pred.complete if link.kind in (0, 2) else pred.progress is not None
            if not needed:
                did = "started" if link.kind in (0, 1) else "finished"
                ctx.warn(
                    ("projects", task.project, "tasks", _position(ctx, task), "actual_start"),
                    f"out of sequence: {task.key} {did} before {pred.key} "
                    f"{'finished' if link.kind in (0, 2) else 'started'}; simulated as it happened",
                )


def _position(ctx: Context, task: Task) -> int:
    """The task's place in its project's list in the file."""
    tasks = ctx.spec.projects[task.project].tasks
    return next(k for k, t in enumerate(tasks) if t.id == task.id)
