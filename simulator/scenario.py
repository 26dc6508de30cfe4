"""Load a scenario file: read safely, validate everything, build the :class:`Portfolio`.

:func:`load_scenario` reports every problem of a file in one :class:`ScenarioError`: first
the schema (types, unknown and missing keys, distribution parameters), then, once the file
is well-formed, the references between its parts (tasks, projects, pools), dependency
cycles, capacity that can never fit, and dates.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from . import schema as S
from ._graph import find_cycles
from ._schema_errors import problems_from
from ._yaml import Located, display_path, load_yaml
from .calendars import WorkCalendar, parse_workweek
from .calibrated import Calibrated
from .distributions import Distribution, Fixed
from .errors import PmosimError, Problem, ScenarioError
from .model import CorrelationGroup, Pool, Portfolio, Project, Risk, Task
from .variants import CapacityEdit, Mitigate, Variant, edited_pool

if TYPE_CHECKING:
    from calibration.reference import ClassModels

__all__ = ["load_scenario"]

_GLOB = set("*?[]")


def load_scenario(path: Path | str, *, display: str | None = None) -> Portfolio:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: with every problem found, each located as ``file:line:col``.
    """
    path = Path(path)
    located = load_yaml(path, display=display)
    if not isinstance(located.data, dict):
        raise ScenarioError([Problem(located.file, 1, 1, "", "expected a mapping of keys "
                                     "(scenario, resources, projects, ...) at the top")])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        spec = S.ScenarioFile.model_validate(located.data)
    except ValidationError as e:
        problems = problems_from(e, located, S.ScenarioFile)
        raise ScenarioError(problems + _cross_check(located, e, digest, path.parent)) from None
    return _Builder(located, spec, path.parent).build(digest)


def _cross_check(located: Located, error: ValidationError, digest: str, folder: Path
                 ) -> list[Problem]:
    """Reference, cycle and capacity problems of a file that failed the schema, so that one
    pass reports them too. Possible when every schema error is local: an unknown key
    (ignored here) or a bad distribution (read as 0 here). Otherwise, nothing."""
    data = copy.deepcopy(located.data)
    for err in error.errors(include_url=False):
        loc = err["loc"]
        tags = [k for k, part in enumerate(loc) if part in S.DIST_TAGS]
        if err["type"] == "extra_forbidden":
            parent, key = _at(data, loc[:-1]), loc[-1]
        elif tags:
            parent, key = _at(data, loc[: tags[0] - 1]), loc[tags[0] - 1]
        else:
            return []
        if isinstance(parent, dict) and key in parent:
            if err["type"] == "extra_forbidden":
                del parent[key]
            else:
                parent[key] = "0"
    try:
        spec = S.ScenarioFile.model_validate(data)
        _Builder(located, spec, folder).build(digest)
    except (ValidationError, ScenarioError) as e:
        return e.problems if isinstance(e, ScenarioError) else []
    return []


def _at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_dict or in_list:
            data = data[part]
        elif part not in S.DIST_TAGS:
            return None
    return data


def _dist(spec: Any) -> Distribution:
    if isinstance(spec, S.DistSpec):
        return spec.build()
    return Fixed(float(spec))


@dataclass
class _Builder:
    located: Located
    spec: S.ScenarioFile
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    models: ClassModels | None = None

    def error(self, loc: tuple[Any, ...], message: str, *, key: bool = False) -> None:
        line, col = self.located.where(loc, key=key)
        self.problems.append(Problem(self.located.file, line, col,
                                     display_path(self.located.data, loc), message))

    # --- time -------------------------------------------------------------------------------

    def offset(self, when: dt.date | float, loc: tuple[Any, ...], *, end: bool = False) -> float:
        if not isinstance(when, dt.date):
            return float(when)
        start = self.calendar.start
        if start is None:
            self.error(loc, f"the date {when} needs a scenario start date: add 'start: "
                            "YYYY-MM-DD' at the top or give a number of working days")
            return 0.0
        if when < start:
            self.error(loc, f"{when} is before the scenario start {start}")
            return 0.0
        return self.calendar.end_of(when) if end else self.calendar.offset(when)

    def make_calendar(self) -> None:
        cal = self.spec.calendar
        try:
            mask = parse_workweek(cal.workweek)
        except ValueError as e:
            self.error(("calendar", "workweek"), str(e))
            mask = "1111100"
        self.calendar = WorkCalendar(self.spec.start, mask, tuple(sorted(set(cal.holidays))))

    # --- parts ------------------------------------------------------------------------------

    def pools(self) -> tuple[Pool, ...]:
        out = []
        for pid, p in self.spec.resources.items():
            changes = sorted((self.offset(c.at, ("resources", pid, "changes", k, "at")),
                              c.capacity) for k, c in enumerate(p.changes))
            out.append(Pool(pid, p.capacity, p.cost_per_day, tuple(changes)))
        return tuple(out)

    def check_ids(self, ids: list[str], loc: tuple[Any, ...], what: str, *,
                  dots: bool = True) -> None:
        seen: dict[str, int] = {}
        for k, ident in enumerate(ids):
            where = (*loc, k, "id")
            if ident in seen:
                self.error(where, f"duplicate {what} id '{ident}' (also {what} #{seen[ident] + 1})")
            seen.setdefault(ident, k)
            bad = _GLOB | ({"."} if not dots else set())
            if bad & set(ident):
                self.error(where, f"{what} id '{ident}' may not contain "
                                  f"{' '.join(sorted(bad & set(ident)))}")

    def load_models(self) -> None:
        """The scenario's calibration file: relative to the scenario, never outside its
        folder."""
        name = self.spec.calibration
        if name is None:
            return
        from calibration.calfile import load_calibration  # only scenarios that cite one

        folder = self.folder.resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder):
            self.error(("calibration",), f"'{name}' lies outside the scenario's folder "
                                         f"{folder}; keep the calibration file beside it")
        elif not path.is_file():
            self.error(("calibration",), f"'{name}': no such file (looked for {path})")
        else:
            try:
                self.models = load_calibration(path).models
            except PmosimError as e:
                self.error(("calibration",), str(e))

    def calibrated(self, t: S.TaskSpec, loc: tuple[Any, ...]) -> Distribution:
        estimate = float(t.estimate)  # type: ignore[arg-type]
        if self.models is None:
            if self.spec.calibration is None:
                self.error((*loc, "estimate"), "an estimate needs a calibration file: add "
                                               "'calibration: FILE' (made by 'pmosim "
                                               "calibrate') at the top")
            return Fixed(estimate)
        models = self.models
        if t.klass is None:
            return Calibrated(estimate, models.overall, "(all)")
        key = tuple(p.strip() for p in t.klass.split("/")) if len(models.by) > 1 else (t.klass,)
        if key not in models.classes:
            known = ", ".join("/".join(k) for k in models.classes) or "none"
            self.error((*loc, "class"), f"unknown class '{t.klass}'; the calibration knows: "
                                        f"{known}")
            return Fixed(estimate)
        return Calibrated(estimate, models.classes[key], t.klass)

    def build(self, digest: str) -> Portfolio:
        spec = self.spec
        self.make_calendar()
        self.load_models()
        pools = self.pools()
        pool_index = {p.id: k for k, p in enumerate(pools)}
        self.check_ids([p.id for p in spec.projects], ("projects",), "project", dots=False)
        tasks, projects = self.tasks_and_projects(pools, pool_index)
        risks = tuple(self.risk(k, r, tasks, projects, pool_index)
                      for k, r in enumerate(spec.risks))
        self.check_ids([r.id for r in spec.risks], ("risks",), "risk")
        groups = self.groups(tasks, projects)
        self.cycles(tasks, projects)
        variants = self.variants(tasks, projects, pools, risks)
        horizon = None
        if spec.value_horizon is not None:
            horizon = self.offset(spec.value_horizon, ("value_horizon",), end=True)
        elif any(p.value_per_month for p in spec.projects):
            k = next(k for k, p in enumerate(spec.projects) if p.value_per_month)
            self.error(("projects", k, "value_per_month"), "project values need "
                       "'value_horizon: DATE' at the top: value accrues from each finish until "
                       "then", key=True)
        if self.problems:
            raise ScenarioError(self.problems)
        return Portfolio(name=spec.scenario, calendar=self.calendar, pools=pools,
                         projects=projects, tasks=tasks, risks=risks, groups=groups,
                         priority_rule=spec.priority_rule, iterations=spec.iterations,
                         seed=spec.seed, currency=spec.currency, source_hash=digest,
                         variants=variants, value_horizon=horizon)

    def variants(self, tasks: tuple[Task, ...], projects: tuple[Project, ...],
                 pools: tuple[Pool, ...], risks: tuple[Risk, ...]) -> tuple[Variant, ...]:
        """Resolve the variants' references, each error at its place in the file."""
        specs = self.spec.variants
        names = [v.name for v in specs]
        for k, name in enumerate(names):
            if names.index(name) != k:
                self.error(("variants", k, "name"), f"duplicate variant name '{name}' (also "
                                                    f"variant #{names.index(name) + 1})")
        p_index = {p.id: k for k, p in enumerate(projects)}
        pool_index = {p.id: k for k, p in enumerate(pools)}
        r_index = {r.id: k for k, r in enumerate(risks)}
        t_index = {t.key: i for i, t in enumerate(tasks)}
        done: dict[int, Variant] = {}

        def lookup(index: dict[str, int], ident: str, loc: tuple[Any, ...], what: str,
                   *, key: bool = True) -> int | None:
            if ident in index:
                return index[ident]
            self.error(loc, f"unknown {what} '{ident}'; {what}s: {', '.join(index)}", key=key)
            return None

        def resolve(k: int, stack: tuple[str, ...]) -> Variant:
            v = specs[k]
            if k in done:
                return done[k]
            loc = ("variants", k)
            base = Variant(v.name)
            for m, other in enumerate(v.include):
                if other in stack or other == v.name:
                    self.error((*loc, "include", m), f"'{other}': variants may not include "
                                                     "themselves, directly or not")
                elif other not in names:
                    self.error((*loc, "include", m), f"unknown variant '{other}'; variants: "
                                                     f"{', '.join(names)}")
                else:
                    base = resolve(names.index(other), (*stack, v.name)).merged_over(base)
            release: dict[int, float] = {}
            for pid, when in v.postpone.items():
                where = (*loc, "postpone", pid)
                pk = lookup(p_index, pid, where, "project")
                if pk is None:
                    continue
                old = projects[pk].release
                new = (old + when if not isinstance(when, dt.date) else
                       self.offset(when, where))
                if new < old:
                    self.error(where, f"{when} is before the project's current start; "
                                      "postpone moves a project later", key=True)
                release[pk] = new
            simple: dict[str, dict[int, Any]] = {"priority": {}, "deadline": {}, "budget": {}}
            edits: tuple[tuple[str, dict[str, Any]], ...] = (
                ("priority", v.priority), ("deadline", v.deadline), ("budget", v.budget))
            for name, values in edits:
                for pid, value in values.items():
                    where = (*loc, name, pid)
                    pk = lookup(p_index, pid, where, "project")
                    if pk is None:
                        continue
                    if name == "deadline":
                        value = self.offset(value, where, end=True)
                        if value <= release.get(pk, projects[pk].release):
                            self.error(where, "the deadline is not after the project start",
                                       key=True)
                    simple[name][pk] = float(value) if name != "priority" else int(value)
            capacity: dict[int, CapacityEdit] = {}
            for pool_id, change in v.capacity.items():
                where = (*loc, "capacity", pool_id)
                pk = lookup(pool_index, pool_id, where, "pool")
                if pk is None:
                    continue
                start = 0.0 if change.from_ is None else self.offset(change.from_, where)
                capacity[pk] = CapacityEdit(change.delta, change.set_, start)
                need = max((u for t in tasks for q, u in t.demand if q == pk), default=0.0)
                most = edited_pool(pools[pk], capacity[pk]).max_capacity
                if need > most:
                    self.error(where, f"leaves pool '{pool_id}' at most {most:g} units, but a "
                                      f"task needs {need:g}", key=True)
            mitigate: dict[int, Mitigate] = {}
            for rid, mit in v.mitigate.items():
                where = (*loc, "mitigate", rid)
                rk = lookup(r_index, rid, where, "risk")
                if rk is None:
                    continue
                if mit.charge_to is not None:
                    ck = lookup(p_index, mit.charge_to, (*where, "charge_to"), "project",
                                key=False)
                    charge: tuple[int, ...] = () if ck is None else (ck,)
                else:
                    r = risks[rk]
                    charge = tuple(sorted({tasks[i].project for i in r.targets}
                                          | set(r.cost_projects)))
                    if mit.cost and not charge:
                        self.error(where, "the risk affects no project's tasks or costs: say "
                                          "which project pays with charge_to", key=True)
                mitigate[rk] = Mitigate(mit.probability, mit.impact, mit.cost, charge)
            cancel = {pk for m, pid in enumerate(v.cancel)
                      if (pk := lookup(p_index, pid, (*loc, "cancel", m), "project",
                                       key=False)) is not None}
            remove = {i for m, key in enumerate(v.remove_tasks)
                      if (i := lookup(t_index, key, (*loc, "remove_tasks", m), "task",
                                      key=False)) is not None}
            own = Variant(v.name, v.description or "", release, simple["priority"],
                          simple["deadline"], simple["budget"], capacity, mitigate,
                          frozenset(cancel), frozenset(remove))
            merged = own.merged_over(base)
            left = set(range(len(projects))) - merged.cancel
            if not left:
                self.error((*loc, "cancel"), "every project is cancelled: nothing to simulate")
            for pk in left:
                if all(i in merged.remove for i in projects[pk].tasks):
                    self.error((*loc, "remove_tasks"), f"every task of project "
                               f"'{projects[pk].id}' is removed: cancel the project instead")
            done[k] = merged
            return merged

        return tuple(resolve(k, ()) for k in range(len(specs)))

    def tasks_and_projects(self, pools: tuple[Pool, ...], pool_index: dict[str, int]
                           ) -> tuple[tuple[Task, ...], tuple[Project, ...]]:
        spec = self.spec
        first: list[int] = []
        keys: dict[str, int] = {}  # a duplicated id (reported) refers to its first task
        for pk, p in enumerate(spec.projects):
            first.append(sum(len(q.tasks) for q in spec.projects[:pk]))
            self.check_ids([t.id for t in p.tasks], ("projects", pk, "tasks"), "task",
                           dots=False)
            for k, t in enumerate(p.tasks):
                keys.setdefault(f"{p.id}.{t.id}", first[pk] + k)
        n_tasks = sum(len(p.tasks) for p in spec.projects)
        preds: list[list[tuple[int, float]]] = [[] for _ in range(n_tasks)]
        tasks: list[Task] = []
        projects: list[Project] = []
        for pk, p in enumerate(spec.projects):
            ploc = ("projects", pk)
            local: dict[str, int] = {}
            for k, t in enumerate(p.tasks):
                local.setdefault(t.id, first[pk] + k)
            for k, t in enumerate(p.tasks):
                i = first[pk] + k
                tloc = (*ploc, "tasks", k)
                for m, link in enumerate(t.after):
                    j = self.resolve(link.id, p.id, local, keys, (*tloc, "after", m))
                    if j is not None:
                        preds[i].append((j, t.lag if link.lag is None else link.lag))
                demand = self.demand(t, tloc, pools, pool_index)
                size = (self.calibrated(t, tloc) if t.estimate is not None else
                        _dist(t.duration if t.duration is not None else t.effort))
                tasks.append(Task(key=f"{p.id}.{t.id}", project=pk, id=t.id,
                                  name=t.name or t.id, size=size,
                                  per_unit=t.effort is not None, demand=demand, cost=t.cost))
            release = self.offset(p.start, (*ploc, "start")) if p.start is not None else 0.0
            deadline = (self.offset(p.deadline, (*ploc, "deadline"), end=True)
                        if p.deadline is not None else None)
            if deadline is not None and p.start is not None and deadline <= release:
                self.error((*ploc, "deadline"), f"deadline {p.deadline} is not after the "
                                                f"project start {p.start}")
            per_year = 52.1775 * self.calendar.weekmask.count("1")
            projects.append(Project(p.id, p.name or p.id, p.priority, release, deadline,
                                    p.budget, p.cost, p.overhead_per_day,
                                    tuple(range(first[pk], first[pk] + len(p.tasks))),
                                    p.value_per_month * 12 / per_year))
        self.project_links(projects, preds)
        tasks = [Task(t.key, t.project, t.id, t.name, t.size, t.per_unit, t.demand,
                      tuple(dict.fromkeys(preds[i])), t.cost) for i, t in enumerate(tasks)]
        return tuple(tasks), tuple(projects)

    def resolve(self, ref: str, project: str, local: dict[str, int], keys: dict[str, int],
                loc: tuple[Any, ...]) -> int | None:
        if ref in local:
            return local[ref]
        if ref in keys:
            return keys[ref]
        known = ", ".join(list(local)[:12]) + (", ..." if len(local) > 12 else "")
        self.error(loc, f"unknown task '{ref}': name a task of project '{project}' ({known}) "
                        "or another project's task as project.task")
        return None

    def demand(self, t: S.TaskSpec, loc: tuple[Any, ...], pools: tuple[Pool, ...],
               pool_index: dict[str, int]) -> tuple[tuple[int, float], ...]:
        out = []
        for pid, units in t.resources.items():
            if pid not in pool_index:
                known = ", ".join(pool_index) or "none defined"
                self.error((*loc, "resources", pid), f"unknown pool '{pid}'; pools: {known}",
                           key=True)
                continue
            pool = pools[pool_index[pid]]
            if units > pool.max_capacity:
                self.error((*loc, "resources", pid),
                           f"needs {units:g} units of '{pid}' but the pool never has more than "
                           f"{pool.max_capacity:g}: this task could never start")
            out.append((pool_index[pid], float(units)))
        return tuple(out)

    def project_links(self, projects: list[Project], preds: list[list[tuple[int, float]]]
                      ) -> None:
        index = {p.id: k for k, p in enumerate(projects)}
        for pk, p in enumerate(self.spec.projects):
            mine = projects[pk].tasks
            entries = [i for i in mine if not any(j in mine for j, _ in preds[i])]
            for m, link in enumerate(p.after):
                loc = ("projects", pk, "after", m)
                if link.id not in index or link.id == p.id:
                    why = "a project cannot follow itself" if link.id == p.id else \
                        f"unknown project; projects: {', '.join(index)}"
                    self.error(loc, f"'{link.id}': {why}")
                    continue
                other = projects[index[link.id]].tasks
                has_succ = {j for i in other for j, _ in preds[i] if j in other}
                exits = [i for i in other if i not in has_succ]
                for i in entries:
                    preds[i].extend((j, link.lag or 0.0) for j in exits)

    def match(self, pattern: str, tasks: tuple[Task, ...], projects: tuple[Project, ...]
              ) -> list[int]:
        if "." not in pattern:
            return [i for pk, p in enumerate(projects) if fnmatch.fnmatchcase(p.id, pattern)
                    for i in p.tasks]
        return [i for i, t in enumerate(tasks) if fnmatch.fnmatchcase(t.key, pattern)]

    def targets(self, patterns: list[str], loc: tuple[Any, ...], tasks: tuple[Task, ...],
                projects: tuple[Project, ...]) -> tuple[int, ...]:
        found: list[int] = []
        for m, pattern in enumerate(patterns):
            hits = self.match(pattern, tasks, projects)
            if not hits:
                self.error((*loc, m), f"'{pattern}' matches no task; use project.task, a "
                                      "project id, and * or ? as wildcards (crm.*, *.test)")
            found.extend(hits)
        return tuple(dict.fromkeys(found))

    def risk(self, k: int, r: S.RiskSpec, tasks: tuple[Task, ...],
             projects: tuple[Project, ...], pool_index: dict[str, int]) -> Risk:
        loc = ("risks", k)
        targets = self.targets(r.affects, (*loc, "affects"), tasks, projects)
        loss = None
        if r.capacity_loss is not None:
            cl = r.capacity_loss
            if cl.pool not in pool_index:
                self.error((*loc, "capacity_loss", "pool"),
                           f"unknown pool '{cl.pool}'; pools: {', '.join(pool_index)}")
            else:
                at = self.offset(cl.at, (*loc, "capacity_loss", "at"))
                loss = (pool_index[cl.pool], float(cl.units), at, _dist(cl.days))
        delay = r.delay if r.delay is not None else r.delay_percent
        cost_projects = tuple(dict.fromkeys(tasks[i].project for i in targets))
        return Risk(r.id, r.probability, targets, None if delay is None else _dist(delay),
                    r.delay_percent is not None, None if r.cost is None else _dist(r.cost),
                    cost_projects, loss)

    def groups(self, tasks: tuple[Task, ...], projects: tuple[Project, ...]
               ) -> tuple[CorrelationGroup, ...]:
        out: list[CorrelationGroup] = []
        owner: dict[int, str] = {}
        specs: list[tuple[tuple[Any, ...], str, float, list[int]]]
        specs = [(("projects", pk, "correlation"), f"project:{p.id}", p.correlation,
                  list(projects[pk].tasks)) for pk, p in enumerate(self.spec.projects)
                 if p.correlation is not None]
        specs += [(("correlations", k), g.id, g.rho,
                   list(self.targets(g.tasks, ("correlations", k, "tasks"), tasks, projects)))
                  for k, g in enumerate(self.spec.correlations)]
        seen: set[str] = set()
        for loc, gid, rho, members in specs:
            if gid in seen:
                self.error(loc, f"correlation group id '{gid}' is used twice (project-level "
                                "groups are named project:<id>); give each group its own id")
            seen.add(gid)
            for i in members:
                if i in owner:
                    self.error(loc, f"task '{tasks[i].key}' is already in correlation group "
                                    f"'{owner[i]}'; a task may belong to one group only")
                    break
                owner[i] = gid
            out.append(CorrelationGroup(gid, float(rho), tuple(members)))
        return tuple(out)

    def cycles(self, tasks: tuple[Task, ...], projects: tuple[Project, ...]) -> None:
        succ: list[list[int]] = [[] for _ in tasks]
        for i, t in enumerate(tasks):
            for j, _ in t.preds:
                succ[j].append(i)
        for cycle in find_cycles(succ):
            text = " -> ".join(tasks[i].key for i in cycle)
            pk = tasks[cycle[1]].project
            k = cycle[1] - projects[pk].tasks[0]  # its place in the project's task list
            has_own = bool(self.spec.projects[pk].tasks[k].after)
            loc = ("projects", pk, "tasks", k, "after") if has_own else ("projects", pk, "after")
            self.error(loc, f"dependency cycle: {text} (each must finish before the next "
                            "starts); remove one of these links")
