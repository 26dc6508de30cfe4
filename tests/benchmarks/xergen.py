"""A synthetic Primavera P6 XER export for benchmarks and tests: a statused multi-project
schedule written with the tables and fields P6 itself writes (as in the public XER files of
``../shared/data/plans/``).

What a generated file holds:

* several projects (``PROJECT``), each with a WBS tree (``PROJWBS``: the project node,
  phases, areas);
* 1-4 calendars (``CALENDAR``, ``clndr_data`` with working times per week day and
  holidays as exceptions): 5-day 8 h (the default), 7-day 8 h, 4x10 h, 6-day 9 h;
* activities (``TASK``): a start milestone and a finish milestone per project, a few
  interior milestones of both kinds, a few level-of-effort activities, the rest tasks;
* relationships (``TASKPRED``), about 1.5 per activity, always from an earlier activity
  (so acyclic), mostly FS with some SS, FF and SF, positive lags and a few leads, and a few
  links between projects;
* constraints on about 30 % of the activities (kinds pmosim keeps and kinds it notes);
* progress at a data date: about 15 % complete, about 5 % in progress (actual dates from
  a forward pass of the generator's own, remaining durations, the three percent complete
  types), so that started work is in sequence with its predecessors;
* resources (``RSRC``, ``RSRCRATE``) with assignments (``TASKRSRC``) and activity codes
  (``ACTVTYPE``, ``ACTVCODE``, ``TASKACTV``).

Output is deterministic for a seed (a seeded ``numpy`` Generator drives every choice).
:func:`write_xer` returns the counts of what it wrote, for tests to compare with the file.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Mix", "XerCounts", "write_xer"]

EPOCH = dt.date(1899, 12, 30)  # clndr_data counts days from here
BASE = dt.date(2025, 1, 6)  # the first project's planned start, by default (a Monday)
WINDOW = 200  # an activity's predecessors are among the 30 before it in its project


@dataclass(frozen=True)
class Mix:
    """Shares of the things a generated plan holds (see the module docstring)."""

    links: tuple[tuple[str, float], ...] = (
        ("PR_FS", 0.85),
        ("PR_SS", 0.08),
        ("PR_FF", 0.05),
        ("PR_SF", 0.02),
    )
    lags: float = 0.12  # share of links with a positive lag
    leads: float = 0.02  # share of links with a negative lag
    milestones: float = 0.04  # interior milestones (half start, half finish)
    loe: float = 0.01  # level-of-effort activities
    constraints: float = 0.30
    complete: float = 0.15  # activities finished before the data date
    cross_project: float = 0.01  # links from an earlier project


@dataclass(frozen=True)
class XerCounts:
    """What a generated file holds: counts by P6 code, and the data date."""

    projects: int
    calendars: int
    wbs: int
    activities: dict[str, int]
    status: dict[str, int]
    links: dict[str, int]
    lags: int
    leads: int
    constraints: dict[str, int]
    resources: int
    assignments: int
    codes: int
    data_date: dt.date


# (name, P6 week days worked (1 = Sunday), working intervals, hours a day, holidays)
_CALENDARS = (
    ("Standard 5-Day 8h", (2, 3, 4, 5, 6), (("08:00", "12:00"), ("13:00", "17:00")), 8, True),
    ("7-Day Workweek", (1, 2, 3, 4, 5, 6, 7), (("08:00", "16:00"),), 8, False),
    ("4x10 Mon-Thu", (2, 3, 4, 5), (("07:00", "12:00"), ("12:30", "17:30")), 10, True),
    ("6-Day 9h", (2, 3, 4, 5, 6, 7), (("07:00", "12:00"), ("13:00", "17:00")), 9, True),
)
_CAL_SHARES = (0.7, 0.15, 0.1, 0.05)
_CONSTRAINTS = (
    ("CS_MSOA", 0.45),  # start on or after
    ("CS_MEOB", 0.25),  # finish on or before
    ("CS_MSOB", 0.08),  # start on or before
    ("CS_ALAP", 0.06),  # as late as possible (no date)
    ("CS_MEOA", 0.05),  # finish on or after
    ("CS_MSO", 0.05),  # start on
    ("CS_MANDSTART", 0.03),
    ("CS_MANDFIN", 0.03),
)
_VERBS = ("Design", "Procure", "Fabricate", "Install", "Test", "Inspect", "Commission", "Review")
_THINGS = ("foundations", "steel frame", "piping", "cable trays", "pumps", "switchgear", "roof")
_DISCIPLINES = ("CIV", "STR", "MEC", "ELE", "INS", "PIP", "HVAC", "QA")


class _Cal:
    """A calendar's working days (ordinals) over the generator's horizon."""

    def __init__(self, cid: int, k: int, start: dt.date) -> None:
        name, days, times, hours, holidays = _CALENDARS[k]
        self.cid, self.name, self.p6_days, self.times, self.hours = cid, name, days, times, hours
        first, last = dt.date(start.year - 1, 1, 1), dt.date(start.year + 14, 12, 31)
        self.holidays = _holidays(range(first.year, last.year + 1)) if holidays else []
        off = {d.toordinal() for d in self.holidays}
        self.days = [
            o
            for o in range(first.toordinal(), last.toordinal() + 1)
            if (dt.date.fromordinal(o).isoweekday() % 7) + 1 in days and o not in off
        ]

    def roll(self, day: int) -> int:
        """The first working day on or after ``day``."""
        return self.days[bisect.bisect_left(self.days, day)]

    def shift(self, day: int, n: int) -> int:
        """``n`` working days after (before, when negative) the working day on or after
        ``day``."""
        return self.days[bisect.bisect_left(self.days, day) + n]

    def between(self, a: int, b: int) -> int:
        """Working days from ``a`` up to (not including) ``b``."""
        return bisect.bisect_left(self.days, b) - bisect.bisect_left(self.days, a)

    def clndr_data(self) -> str:
        week = "".join(
            f"(0||{d}()("
            + "".join(f"(0||{k}(s|{a}|f|{b})())" for k, (a, b) in enumerate(self.times))
            + "))"
            if d in self.p6_days
            else f"(0||{d}()())"
            for d in range(1, 8)
        )
        off = "".join(f"(0||{k}(d|{(day - EPOCH).days})())" for k, day in enumerate(self.holidays))
        return f"(0||CalendarData()((0||DaysOfWeek()({week}))(0||Exceptions()({off}))))"


def _holidays(years: range) -> list[dt.date]:
    """New Year, Memorial Day, Independence Day, Labor Day, Thanksgiving, Christmas."""

    def nth(year: int, month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        day = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        return day if day.month == month else day - dt.timedelta(days=7)

    out = []
    for y in years:
        out += [dt.date(y, 1, 1), nth(y, 5, 0, 5), dt.date(y, 7, 4), nth(y, 9, 0, 1)]
        out += [nth(y, 11, 3, 4), dt.date(y, 12, 25), dt.date(y, 12, 26)]
    return out


@dataclass
class _Act:
    """One generated activity."""

    task_id: int
    proj: int
    local: int
    kind: str
    cal: _Cal
    days: int  # planned working days (0 for milestones)
    wbs: int = 0
    preds: list[tuple[int, str, int]] = field(default_factory=list)  # (act, type, lag days)
    cstr: tuple[str, int | None] | None = None
    start: int = 0  # ordinals of the forward pass
    finish: int = 0
    status: str = "TK_NotStart"
    act_start: int | None = None
    act_end: int | None = None
    remain: int = 0
    pct_type: str = "CP_Drtn"
    pct: float = 0.0


def _stamp(day: int | None, time: str = "00:00") -> str:
    return "" if day is None else f"{dt.date.fromordinal(day).isoformat()} {time}"


class _Plan:
    """A plan being generated: activities, links, schedule and status."""

    def __init__(
        self, activities: int, projects: int, calendars: int, mix: Mix, seed: int, start: dt.date
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.mix, self.base = mix, start.toordinal()
        self.cals = [_Cal(600 + k, k, start) for k in range(calendars)]
        shares = np.array(_CAL_SHARES[:calendars])
        self.cal_p = shares / shares.sum()
        sizes = [activities // projects + (k < activities % projects) for k in range(projects)]
        self.acts: list[_Act] = []
        self.first: list[int] = []
        self.proj_start: list[int] = []
        day = self.base
        for p, size in enumerate(sizes):
            self.first.append(len(self.acts))
            self.proj_start.append(self.cals[0].roll(day))
            day += int(self.rng.integers(5, 20))
            self._activities(p, size)
        self.data_date = self.proj_start[0]

    def _activities(self, p: int, size: int) -> None:
        mix, rng = self.mix, self.rng
        for local in range(size):
            u = rng.random()
            if local == 0:
                kind = "TT_Mile"
            elif local == size - 1:
                kind = "TT_FinMile"
            elif u < mix.loe:
                kind = "TT_LOE"
            elif u < mix.loe + mix.milestones:
                kind = "TT_Mile" if rng.random() < 0.5 else "TT_FinMile"
            else:
                kind = "TT_Task"
            cal = self.cals[int(rng.choice(len(self.cals), p=self.cal_p))]
            days = 0 if kind in ("TT_Mile", "TT_FinMile") else int(rng.lognormal(1.9, 0.6)) + 1
            task_id = 100_000 + len(self.acts)
            self.acts.append(_Act(task_id, p, local, kind, cal, days))

    # -- relationships -------------------------------------------------------------------

    def link(self) -> None:
        """About 1.5 predecessors per activity, each from an earlier activity of its project
        (a few from an earlier project); every activity but the last of a project and the
        level-of-effort ones gets a successor."""
        has_succ = [False] * len(self.acts)
        for p, first in enumerate(self.first):
            last = self.first[p + 1] if p + 1 < len(self.first) else len(self.acts)
            for i in range(first + 1, last):
                for j in self._pred_choices(i, first):
                    self._add(i, j)
                    has_succ[j] = True
            for j in range(first, last - 1):
                if not has_succ[j] and self.acts[j].kind != "TT_LOE":
                    later = [
                        i
                        for i in range(j + 1, min(j + WINDOW, last - 1) + 1)
                        if self.acts[i].kind != "TT_LOE"
                    ]
                    i = int(later[int(self.rng.integers(len(later)))])
                    self._add(i, j, kind="PR_FS")
                    has_succ[j] = True

    def _pred_choices(self, i: int, first: int) -> list[int]:
        rng, act = self.rng, self.acts[i]
        pool = [j for j in range(max(first, i - WINDOW), i) if self.acts[j].kind != "TT_LOE"]
        if act.kind == "TT_LOE":  # spans from one activity's start to a later one's finish
            ends = sorted(int(x) for x in rng.choice(pool, size=min(2, len(pool)), replace=False))
            act.preds += [(ends[0], "PR_SS", 0), (ends[-1], "PR_FF", 0)]
            return []
        k = min(len(pool), 1 + int(rng.binomial(2, 0.1)))
        chosen = [int(j) for j in rng.choice(pool, size=k, replace=False)]
        if act.proj and act.local and rng.random() < self.mix.cross_project:
            other = int(rng.integers(self.first[act.proj]))
            if self.acts[other].kind != "TT_LOE":
                chosen.append(other)
        return chosen

    def _add(self, i: int, j: int, kind: str | None = None) -> None:
        mix, rng = self.mix, self.rng
        if kind is None:
            names, p = zip(*mix.links, strict=True)
            kind = str(rng.choice(names, p=np.array(p) / sum(p)))
        u, lag = rng.random(), 0
        if u < mix.lags:
            lag = int(rng.integers(1, 11))
        elif u < mix.lags + mix.leads and kind == "PR_FS":
            lag = -int(rng.integers(1, 4))
        if all(x[0] != j for x in self.acts[i].preds):
            self.acts[i].preds.append((j, kind, lag))

    # -- schedule ------------------------------------------------------------------------

    def forward(self, data_date: int | None = None) -> None:
        """Day-granularity early dates, in file order (every link points back); with a
        data date, complete work keeps its actual dates, work in progress resumes at the
        data date and work not started starts no earlier than it."""
        for a in self.acts:
            cal = a.cal
            if data_date is not None and a.status == "TK_Complete":
                a.start, a.finish = a.act_start or a.start, a.act_end or a.finish
                continue
            if data_date is not None and a.status == "TK_Active":
                a.start, a.finish = cal.roll(data_date), cal.shift(data_date, max(a.remain - 1, 0))
                continue
            if a.kind == "TT_LOE":
                self._span(a)
                continue
            start = cal.roll(self.proj_start[a.proj])
            if data_date is not None:
                start = max(start, cal.roll(data_date))
            for j, kind, lag in a.preds:
                start = max(start, self._bound(a, self.acts[j], kind, lag))
            if a.cstr and a.cstr[0] in ("CS_MSOA", "CS_MSO", "CS_MANDSTART") and a.cstr[1]:
                start = max(start, cal.roll(a.cstr[1]))
            a.start, a.finish = start, cal.shift(start, max(a.days - 1, 0))

    def _bound(self, a: _Act, b: _Act, kind: str, lag: int) -> int:
        """The earliest start of ``a`` that its link from ``b`` allows."""
        if kind == "PR_FS":  # a start milestone is at its day's start, a finish milestone
            step = 0 if b.kind == "TT_Mile" or a.kind == "TT_FinMile" else 1  # at its end
            return a.cal.roll(b.cal.shift(b.finish, step + lag))
        if kind == "PR_SS":
            return a.cal.roll(b.cal.shift(b.start, lag))
        end = a.cal.roll(b.cal.shift(b.finish if kind == "PR_FF" else b.start, lag))
        return a.cal.shift(end, -max(a.days - 1, 0))

    def _span(self, a: _Act) -> None:
        first, last = self.acts[a.preds[0][0]], self.acts[a.preds[-1][0]]
        a.start, a.finish = a.cal.roll(first.start), a.cal.roll(max(last.finish, first.start))
        a.days = max(a.cal.between(a.start, a.finish) + 1, 1)

    def constrain(self) -> None:
        """Constraints on a share of the activities, dated from the unconstrained pass."""
        names, p = zip(*_CONSTRAINTS, strict=True)
        weights = np.array(p) / sum(p)
        for a in self.acts:
            if a.kind == "TT_LOE" or self.rng.random() >= self.mix.constraints:
                continue
            kind = str(self.rng.choice(names, p=weights))
            floor = a.cal.roll(self.proj_start[a.proj])
            shift = {
                "CS_MSOA": (a.start, 0, 6),
                "CS_MSO": (a.start, 0, 4),
                "CS_MANDSTART": (a.start, 0, 4),
                "CS_MSOB": (a.start, 0, 11),
                "CS_MEOB": (a.finish, -3, 26),
                "CS_MANDFIN": (a.finish, 0, 26),
                "CS_MEOA": (a.finish, -5, 1),
            }.get(kind)
            day = None
            if shift is not None:
                base, low, high = shift
                day = max(floor, a.cal.shift(base, int(self.rng.integers(low, high))))
            a.cstr = (kind, day)

    def status(self) -> None:
        """The data date where the ``complete`` share of the activities has finished;
        actual dates and remaining durations of the work before it."""
        ends = sorted(a.finish for a in self.acts if a.kind != "TT_LOE")
        k = int(self.mix.complete * len(ends))
        self.data_date = ends[k - 1] + 1 if k else self.proj_start[0]
        while dt.date.fromordinal(self.data_date).weekday() >= 5:
            self.data_date += 1
        types = ("CP_Drtn", "CP_Phys", "CP_Units")
        for a in self.acts:
            a.pct_type = str(self.rng.choice(types, p=[0.6, 0.25, 0.15]))
            if a.finish < self.data_date:
                a.status, a.act_start, a.pct = "TK_Complete", a.start, 100.0
                early = int(self.rng.integers(0, a.days // 3 + 1)) if a.days > 2 else 0
                a.act_end = a.cal.shift(a.finish, -early)
            elif a.start < self.data_date and a.days > 0:
                a.status, a.act_start = "TK_Active", a.start
                left = a.cal.between(self.data_date, a.finish + 1)
                a.remain = max(1, round(left * float(self.rng.uniform(0.8, 1.4))))
                a.pct = round(100.0 * min(max(1 - a.remain / a.days, 0.01), 0.99), 1)


def write_xer(
    path: Path,
    *,
    activities: int = 5000,
    projects: int | None = None,
    calendars: int = 3,
    seed: int = 0,
    mix: Mix | None = None,
    start: dt.date = BASE,
) -> XerCounts:
    """Write a statused P6 XER export of ``activities`` activities to ``path``.

    ``projects`` defaults to one per 500 activities; ``calendars`` (1-4) are taken in the
    order 5-day, 7-day, 4x10, 6-day, the first the default; the first project starts on
    ``start`` (or the next working day), the others a few weeks apart.
    """
    if not 1 <= calendars <= len(_CALENDARS):
        raise ValueError(f"calendars={calendars} must be between 1 and {len(_CALENDARS)}")
    projects = projects or max(1, -(-activities // 500))
    if activities < 2 * projects:
        raise ValueError(f"activities={activities} must be at least 2 per project ({projects})")
    plan = _Plan(activities, projects, calendars, mix or Mix(), seed, start)
    plan.link()
    plan.forward()
    plan.constrain()
    plan.forward()
    plan.status()
    target = [(a.start, a.finish) for a in plan.acts]
    plan.forward(plan.data_date)
    return _Writer(plan, target).write(path)


# -- writing ----------------------------------------------------------------------------


def _fields(names: str) -> list[str]:
    return names.split()


_F_PROJECT = _fields(
    "proj_id fy_start_month_num rsrc_self_add_flag allow_complete_flag rsrc_multi_assign_flag "
    "checkout_flag project_flag step_complete_flag cost_qty_recalc_flag batch_sum_flag "
    "name_sep_char def_complete_pct_type proj_short_name acct_id orig_proj_id source_proj_id "
    "base_type_id clndr_id sum_base_proj_id task_code_base task_code_step priority_num "
    "wbs_max_sum_level strgy_priority_num last_checksum critical_drtn_hr_cnt def_cost_per_qty "
    "last_recalc_date plan_start_date plan_end_date scd_end_date add_date last_tasksum_date "
    "fcst_start_date def_duration_type task_code_prefix guid def_qty_type add_by_name "
    "web_local_root_path proj_url def_rate_type add_act_remain_flag act_this_per_link_flag "
    "def_task_type act_pct_link_flag critical_path_type task_code_prefix_flag "
    "def_rollup_dates_flag use_project_baseline_flag rem_target_link_flag reset_planned_flag "
    "allow_neg_act_flag sum_assign_level last_fin_dates_id last_baseline_update_date "
    "cr_external_key apply_actuals_date location_id loaded_scope_level export_flag "
    "new_fin_dates_id next_data_date close_period_flag sum_refresh_date trsrcsum_loaded"
)
_F_CALENDAR = _fields(
    "clndr_id default_flag clndr_name proj_id base_clndr_id last_chng_date clndr_type "
    "day_hr_cnt week_hr_cnt month_hr_cnt year_hr_cnt rsrc_private clndr_data"
)
_F_PROJWBS = _fields(
    "wbs_id proj_id obs_id seq_num est_wt proj_node_flag sum_data_flag status_code "
    "wbs_short_name wbs_name phase_id parent_wbs_id ev_user_pct ev_etc_user_value orig_cost "
    "indep_remain_total_cost ann_dscnt_rate_pct dscnt_period_type indep_remain_work_qty "
    "anticip_start_date anticip_end_date ev_compute_type ev_etc_compute_type guid tmpl_guid "
    "plan_open_state"
)
_F_TASK = _fields(
    "task_id proj_id wbs_id clndr_id phys_complete_pct rev_fdbk_flag est_wt lock_plan_flag "
    "auto_compute_act_flag complete_pct_type task_type duration_type status_code task_code "
    "task_name rsrc_id total_float_hr_cnt free_float_hr_cnt remain_drtn_hr_cnt act_work_qty "
    "remain_work_qty target_work_qty target_drtn_hr_cnt target_equip_qty act_equip_qty "
    "remain_equip_qty cstr_date act_start_date act_end_date late_start_date late_end_date "
    "expect_end_date early_start_date early_end_date restart_date reend_date target_start_date "
    "target_end_date rem_late_start_date rem_late_end_date cstr_type priority_type "
    "suspend_date resume_date float_path float_path_order guid tmpl_guid cstr_date2 cstr_type2 "
    "driving_path_flag act_this_per_work_qty act_this_per_equip_qty external_early_start_date "
    "external_late_end_date create_date update_date create_user update_user location_id"
)
_F_TASKPRED = _fields(
    "task_pred_id task_id pred_task_id proj_id pred_proj_id pred_type lag_hr_cnt comments "
    "float_path aref arls"
)
_F_RSRC = _fields(
    "rsrc_id parent_rsrc_id clndr_id role_id shift_id user_id pobs_id guid rsrc_seq_num "
    "email_addr employee_code office_phone other_phone rsrc_name rsrc_short_name "
    "rsrc_title_name def_qty_per_hr cost_qty_type ot_factor active_flag auto_compute_act_flag "
    "def_cost_qty_link_flag ot_flag curr_id unit_id rsrc_type location_id rsrc_notes "
    "load_tasks_flag level_flag last_checksum"
)
_F_RSRCRATE = _fields(
    "rsrc_rate_id rsrc_id max_qty_per_hr cost_per_qty start_date shift_period_id cost_per_qty2 "
    "cost_per_qty3 cost_per_qty4 cost_per_qty5"
)
_F_TASKRSRC = _fields(
    "taskrsrc_id task_id proj_id cost_qty_link_flag role_id acct_id rsrc_id pobs_id "
    "skill_level remain_qty target_qty remain_qty_per_hr target_lag_drtn_hr_cnt "
    "target_qty_per_hr act_ot_qty act_reg_qty relag_drtn_hr_cnt ot_factor cost_per_qty "
    "target_cost act_reg_cost act_ot_cost remain_cost act_start_date act_end_date "
    "restart_date reend_date target_start_date target_end_date rem_late_start_date "
    "rem_late_end_date rollup_dates_flag target_crv remain_crv actual_crv "
    "ts_pend_act_end_flag guid rate_type act_this_per_cost act_this_per_qty curv_id rsrc_type "
    "cost_per_qty_source_type create_user create_date has_rsrchours taskrsrc_sum_id"
)
_F_ACTVTYPE = _fields(
    "actv_code_type_id actv_short_len seq_num actv_code_type proj_id wbs_id actv_code_type_scope"
)
_F_ACTVCODE = _fields(
    "actv_code_id parent_actv_code_id actv_code_type_id actv_code_name short_name seq_num "
    "color total_assignments"
)
_F_TASKACTV = _fields("task_id actv_code_type_id actv_code_id proj_id")

Row = dict[str, object]


class _Writer:
    """The tables of a generated plan, written as P6 does (CRLF, tab-separated)."""

    def __init__(self, plan: _Plan, target: list[tuple[int, int]]) -> None:
        self.plan, self.target, self.rng = plan, target, plan.rng
        self.lines: list[str] = []

    def table(self, name: str, fields: list[str], rows: list[Row]) -> None:
        self.lines += [f"%T\t{name}", "%F\t" + "\t".join(fields)]
        self.lines += ["%R\t" + "\t".join(str(r.get(f, "")) for f in fields) for r in rows]

    def write(self, path: Path) -> XerCounts:
        plan = self.plan
        dd = _stamp(plan.data_date)
        self.lines.append(f"ERMHDR\t19.12\t{dd[:10]}\tProject\tadmin\tPrimavera\tProject\tUSD")
        self.table(
            "CURRTYPE",
            _fields("curr_id decimal_digit_cnt curr_symbol curr_short_name base_exch_rate"),
            [
                {
                    "curr_id": 1,
                    "decimal_digit_cnt": 2,
                    "curr_symbol": "$",
                    "curr_short_name": "USD",
                    "base_exch_rate": 1,
                }
            ],
        )
        self.table("PROJECT", _F_PROJECT, self.projects())
        self.table("CALENDAR", _F_CALENDAR, self.calendars())
        wbs = self.wbs()
        self.table("PROJWBS", _F_PROJWBS, wbs)
        rsrc, rates = self.resources()
        self.table("RSRC", _F_RSRC, rsrc)
        self.table("RSRCRATE", _F_RSRCRATE, rates)
        assignments = self.assignments([int(str(r["rsrc_id"])) for r in rsrc])
        self.table("TASK", _F_TASK, [self.task(a, k) for k, a in enumerate(plan.acts)])
        links = self.links()
        self.table("TASKPRED", _F_TASKPRED, links)
        self.table("TASKRSRC", _F_TASKRSRC, assignments)
        codes = self.codes()
        self.lines.append("%E")
        path.write_bytes(("\r\n".join(self.lines) + "\r\n").encode("ascii"))
        return XerCounts(
            projects=len(plan.first),
            calendars=len(plan.cals),
            wbs=len(wbs),
            activities=dict(Counter(a.kind for a in plan.acts)),
            status=dict(Counter(a.status for a in plan.acts)),
            links=dict(Counter(str(r["pred_type"]) for r in links)),
            lags=sum(1 for a in plan.acts for *_, g in a.preds if g > 0),
            leads=sum(1 for a in plan.acts for *_, g in a.preds if g < 0),
            constraints=dict(Counter(a.cstr[0] for a in plan.acts if a.cstr)),
            resources=len(rsrc),
            assignments=len(assignments),
            codes=codes,
            data_date=dt.date.fromordinal(plan.data_date),
        )

    def projects(self) -> list[Row]:
        plan, rows = self.plan, []
        for p, start in enumerate(plan.proj_start):
            mine = [a for a in plan.acts if a.proj == p]
            rows.append(
                {
                    "proj_id": 1000 + p,
                    "fy_start_month_num": 1,
                    "def_complete_pct_type": "CP_Drtn",
                    "proj_short_name": f"GEN-{p + 1:02d}",
                    "clndr_id": plan.cals[0].cid,
                    "task_code_base": 1000,
                    "task_code_step": 10,
                    "priority_num": 10,
                    "last_recalc_date": _stamp(plan.data_date),
                    "plan_start_date": _stamp(start),
                    "scd_end_date": _stamp(max(a.finish for a in mine), "17:00"),
                    "add_date": _stamp(plan.base - 30),
                    "def_duration_type": "DT_FixedDUR2",
                    "task_code_prefix": "A",
                    "def_qty_type": "QT_Hour",
                    "def_task_type": "TT_Task",
                    "critical_path_type": "CT_TotFloat",
                    "sum_assign_level": "SL_Taskrsrc",
                    "export_flag": "Y",
                }
            )
        return rows

    def calendars(self) -> list[Row]:
        return [
            {
                "clndr_id": c.cid,
                "default_flag": "Y" if k == 0 else "N",
                "clndr_name": c.name,
                "last_chng_date": "2024-11-04 09:30",
                "clndr_type": "CA_Base",
                "day_hr_cnt": c.hours,
                "week_hr_cnt": c.hours * len(c.p6_days),
                "month_hr_cnt": round(c.hours * len(c.p6_days) * 4.3),
                "year_hr_cnt": c.hours * len(c.p6_days) * 52,
                "rsrc_private": "N",
                "clndr_data": c.clndr_data(),
            }
            for k, c in enumerate(self.plan.cals)
        ]

    def wbs(self) -> list[Row]:
        """Per project: the project node, 3-5 phases, 2-4 areas each; the activities are
        spread over the areas in file order."""
        plan, rows, wid = self.plan, [], 20_000
        for p in range(len(plan.first)):
            root = wid
            rows.append(self._wbs_row(wid, p, 0, "Y", f"GEN-{p + 1:02d}", "Project", 1))
            leaves = []
            for ph in range(int(self.rng.integers(3, 6))):
                wid += 1
                phase = wid
                rows.append(self._wbs_row(wid, p, root, "N", f"P{ph + 1}", f"Phase {ph + 1}", ph))
                for ar in range(int(self.rng.integers(2, 5))):
                    wid += 1
                    leaves.append(wid)
                    rows.append(self._wbs_row(wid, p, phase, "N", f"A{ar + 1}", f"Area {ar}", ar))
            wid += 1
            mine = [a for a in plan.acts if a.proj == p]
            for k, a in enumerate(mine):
                a.wbs = leaves[k * len(leaves) // len(mine)]
        return rows

    @staticmethod
    def _wbs_row(wid: int, p: int, parent: int, node: str, short: str, name: str, seq: int) -> Row:
        return {
            "wbs_id": wid,
            "proj_id": 1000 + p,
            "obs_id": 500,
            "seq_num": seq,
            "est_wt": 1,
            "proj_node_flag": node,
            "sum_data_flag": "N",
            "status_code": "WS_Open",
            "wbs_short_name": short,
            "wbs_name": name,
            "parent_wbs_id": parent or 100,
            "ev_compute_type": "EC_Cmp_pct",
            "ev_etc_compute_type": "EE_Rem_hr",
        }

    def resources(self) -> tuple[list[Row], list[Row]]:
        """One resource per 60 activities (at least 3): labour, some equipment, a little
        material (which pmosim leaves out)."""
        n = max(3, len(self.plan.acts) // 60)
        rsrc, rates = [], []
        for r in range(n):
            kind = "RT_Mat" if r % 20 == 19 else "RT_Equip" if r % 10 == 9 else "RT_Labor"
            rsrc.append(
                {
                    "rsrc_id": 5000 + r,
                    "clndr_id": self.plan.cals[0].cid,
                    "rsrc_seq_num": r,
                    "rsrc_name": f"{_DISCIPLINES[r % len(_DISCIPLINES)]} crew {r // 8 + 1}",
                    "rsrc_short_name": f"R{r + 1:03d}",
                    "def_qty_per_hr": 1,
                    "cost_qty_type": "QT_Hour",
                    "active_flag": "Y",
                    "curr_id": 1,
                    "rsrc_type": kind,
                }
            )
            rates.append(
                {
                    "rsrc_rate_id": 7000 + r,
                    "rsrc_id": 5000 + r,
                    "max_qty_per_hr": int(self.rng.integers(1, 6)),
                    "cost_per_qty": f"{float(self.rng.uniform(40, 150)):.4f}",
                    "start_date": "2024-01-01 00:00",
                }
            )
        return rsrc, rates

    def assignments(self, rsrc: list[int]) -> list[Row]:
        """1-2 resources on three tasks in four."""
        rows: list[Row] = []
        for a in self.plan.acts:
            if a.kind != "TT_Task" or self.rng.random() >= 0.75:
                continue
            k = 1 + int(self.rng.random() < 0.3)
            for rid in self.rng.choice(rsrc, size=k, replace=False):
                rate = float(self.rng.choice([0.5, 1.0, 1.0, 1.0, 2.0]))
                hours = a.days * a.cal.hours
                left = 0 if a.status == "TK_Complete" else (a.remain or a.days) * a.cal.hours
                rows.append(
                    {
                        "taskrsrc_id": 300_000 + len(rows),
                        "task_id": a.task_id,
                        "proj_id": 1000 + a.proj,
                        "cost_qty_link_flag": "Y",
                        "rsrc_id": int(rid),
                        "remain_qty": left * rate,
                        "target_qty": hours * rate,
                        "remain_qty_per_hr": rate,
                        "target_qty_per_hr": rate,
                        "rate_type": "COST_PER_QTY",
                        "rsrc_type": "RT_Labor",
                    }
                )
        return rows

    def task(self, a: _Act, k: int) -> Row:
        hpd = a.cal.hours
        start_t, end_t = a.cal.times[0][0], a.cal.times[-1][1]
        if a.kind in ("TT_Mile", "TT_FinMile"):  # at the start, or the end, of its day
            start_t = end_t = start_t if a.kind == "TT_Mile" else end_t
        done, active = a.status == "TK_Complete", a.status == "TK_Active"
        remain = 0 if done else (a.remain if active else a.days) * hpd
        early = (_stamp(a.start, start_t), _stamp(a.finish, end_t))
        target = self.target[k]
        verb, thing = _VERBS[k % len(_VERBS)], _THINGS[(k // len(_VERBS)) % len(_THINGS)]
        name = {"TT_Mile": "Start of", "TT_FinMile": "Completion of", "TT_LOE": "Supervise"}
        title = f"{name.get(a.kind, verb)} {thing} area {a.local // 25 + 1}"
        cstr = a.cstr or ("", None)
        cstr_time = end_t if cstr[0] in ("CS_MEOB", "CS_MEOA", "CS_MANDFIN") else start_t
        return {
            "task_id": a.task_id,
            "proj_id": 1000 + a.proj,
            "wbs_id": a.wbs,
            "clndr_id": a.cal.cid,
            "phys_complete_pct": a.pct if a.pct_type == "CP_Phys" else 0,
            "rev_fdbk_flag": "N",
            "est_wt": 1,
            "lock_plan_flag": "N",
            "auto_compute_act_flag": "N",
            "complete_pct_type": a.pct_type,
            "task_type": a.kind,
            "duration_type": "DT_FixedDUR2",
            "status_code": a.status,
            "task_code": f"A{1000 + 10 * a.local}",
            "task_name": title,
            "remain_drtn_hr_cnt": remain,
            "target_drtn_hr_cnt": a.days * hpd,
            "cstr_date": _stamp(cstr[1], cstr_time),
            "act_start_date": _stamp(a.act_start, start_t),
            "act_end_date": _stamp(a.act_end, end_t),
            "early_start_date": early[0],
            "early_end_date": early[1],
            "restart_date": early[0],
            "reend_date": early[1],
            "target_start_date": _stamp(target[0], start_t),
            "target_end_date": _stamp(target[1], end_t),
            "cstr_type": cstr[0],
            "priority_type": "PT_Normal",
            "guid": f"gen{a.task_id:08d}",
            "driving_path_flag": "N",
            "create_date": "2024-11-04 09:30",
            "update_date": _stamp(self.plan.data_date),
            "create_user": "admin",
            "update_user": "admin",
        }

    def links(self) -> list[Row]:
        rows: list[Row] = []
        for a in self.plan.acts:
            for j, kind, lag in a.preds:
                b = self.plan.acts[j]
                rows.append(
                    {
                        "task_pred_id": 400_000 + len(rows),
                        "task_id": a.task_id,
                        "pred_task_id": b.task_id,
                        "proj_id": 1000 + a.proj,
                        "pred_proj_id": 1000 + b.proj,
                        "pred_type": kind,
                        "lag_hr_cnt": lag * b.cal.hours,
                    }
                )
        return rows

    def codes(self) -> int:
        """Two global code types (discipline, phase) and one per project (area); every
        activity has a discipline and a phase, three in five an area. Returns the number
        of TASKACTV rows."""
        plan, types, values, assigned = self.plan, [], [], []
        globals_ = [("Discipline", _DISCIPLINES), ("Phase", ("ENG", "PRC", "CON", "COM", "HND"))]
        for t, (name, _) in enumerate(globals_):
            types.append(
                {
                    "actv_code_type_id": 1 + t,
                    "actv_short_len": 4,
                    "seq_num": t,
                    "actv_code_type": name,
                    "actv_code_type_scope": "AS_Global",
                }
            )
        for p in range(len(plan.first)):
            types.append(
                {
                    "actv_code_type_id": 10 + p,
                    "actv_short_len": 3,
                    "seq_num": 2 + p,
                    "actv_code_type": "Area",
                    "proj_id": 1000 + p,
                    "actv_code_type_scope": "AS_Project",
                }
            )
        for t in types:
            tid = int(str(t["actv_code_type_id"]))
            names = globals_[tid - 1][1] if tid < 10 else tuple(f"Z{k}" for k in range(1, 7))
            for k, short in enumerate(names):
                values.append(
                    {
                        "actv_code_id": 100 * tid + k,
                        "actv_code_type_id": tid,
                        "actv_code_name": f"{t['actv_code_type']} {short}",
                        "short_name": short,
                        "seq_num": k,
                        "color": "0",
                    }
                )
        for a in plan.acts:
            picks = [(1, int(self.rng.integers(len(_DISCIPLINES)))), (2, int(self.rng.integers(5)))]
            if self.rng.random() < 0.6:
                picks.append((10 + a.proj, int(self.rng.integers(6))))
            for tid, k in picks:
                assigned.append(
                    {
                        "task_id": a.task_id,
                        "actv_code_type_id": tid,
                        "actv_code_id": 100 * tid + k,
                        "proj_id": 1000 + a.proj,
                    }
                )
        self.table("ACTVTYPE", _F_ACTVTYPE, types)
        self.table("ACTVCODE", _F_ACTVCODE, values)
        self.table("TASKACTV", _F_TASKACTV, assigned)
        return len(assigned)
