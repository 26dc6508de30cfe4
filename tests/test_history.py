"""History loading: the real SiP data set, and a table of hostile files made in tmp_path."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from calibration.history import CleaningNote, History, Mapping, load_history
from simulator.errors import HistoryError, PmosimError

SIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "sip"
needs_sip = pytest.mark.skipif(
    not (SIP / "Sip-task-info.csv").exists(), reason=f"SiP data set not found in {SIP}"
)

SIP_MAPPING: dict[str, Any] = {
    "id_col": "TaskNumber",
    "estimate_col": "HoursEstimate",
    "actual_col": "HoursActual",
    "class_cols": ("Category", "ProjectCode"),
    "date_col": "EstimateOn",
    "date_format": "%d-%b-%y",
    "units": "hours",
}


# --- the real SiP data --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sip() -> History:
    if not (SIP / "Sip-task-info.csv").exists():
        pytest.skip(f"SiP data set not found in {SIP}")
    mapping = Mapping(**SIP_MAPPING, joins=(SIP / "est-act-dates.csv",))
    return load_history(SIP / "Sip-task-info.csv", mapping)


def _sip_first_rows() -> dict[str, dict[str, str]]:
    """First row of each TaskNumber, read independently with the csv module."""
    first: dict[str, dict[str, str]] = {}
    with open(SIP / "Sip-task-info.csv", encoding="cp1252", newline="") as f:
        for row in csv.DictReader(f):
            first.setdefault(row["TaskNumber"], row)
    return first


@needs_sip
def test_sip_one_row_per_task_without_non_positive_values(sip: History) -> None:
    first = _sip_first_rows()
    assert len(first) == 10_266
    non_positive = sum(
        1 for r in first.values() if float(r["HoursEstimate"]) <= 0 or float(r["HoursActual"]) <= 0
    )
    assert len(sip.tasks) == len(first) - non_positive
    assert sip.rows_read == 12_299
    assert list(sip.tasks["id"]) == [
        i for i, r in first.items() if float(r["HoursEstimate"]) > 0 and float(r["HoursActual"]) > 0
    ]
    duplicates = [n for n in sip.notes if "same task listed again" in n.reason]
    assert len(duplicates) == 12_299 - 10_266
    assert all(n.action == "dropped" and n.column == "TaskNumber" for n in duplicates)


@needs_sip
def test_sip_values_are_working_days_and_dates_span_2004_to_2014(sip: History) -> None:
    first = _sip_first_rows()
    tasks = sip.tasks
    hours = np.array([float(first[i]["HoursEstimate"]) for i in tasks["id"]])
    actual = np.array([float(first[i]["HoursActual"]) for i in tasks["id"]])
    np.testing.assert_allclose(tasks["estimate"], hours / 8)
    np.testing.assert_allclose(tasks["actual"], actual / 8)
    assert tasks["date"].dtype == "datetime64[ns]"
    assert tasks["date"].notna().all()
    assert tasks["date"].min().year == 2004
    assert tasks["date"].max().year == 2014
    assert set(tasks["Category"]) == {"Development", "Operational", "Management"}
    assert tasks["ProjectCode"].str.startswith("PC").all()
    exact = (tasks["actual"] == tasks["estimate"]).mean()
    assert 0.30 < exact < 0.37
    assert sip.sha256 == hashlib.sha256((SIP / "Sip-task-info.csv").read_bytes()).hexdigest()
    converted = [n for n in sip.notes if n.reason.startswith("converted hours")]
    assert len(converted) == 1


@needs_sip
def test_sip_report_counts_reasons(sip: History) -> None:
    text = sip.report()
    assert "12,299 rows read, 10,266 tasks kept, 2,033 rows dropped" in text
    assert "same task listed again" in text
    assert "2,033 rows" in text
    assert "from 2004-" in text
    assert "to 2014-" in text


@needs_sip
def test_sip_mapping_file_behaves_like_code(sip: History, tmp_path: Path) -> None:
    (tmp_path / "sip.yaml").write_text(
        "id_col: TaskNumber\nestimate_col: HoursEstimate\nactual_col: HoursActual\n"
        "class_cols: [Category, ProjectCode]\ndate_col: EstimateOn\n"
        f"date_format: '%d-%b-%y'\nunits: hours\njoins: [{SIP / 'est-act-dates.csv'}]\n",
        encoding="utf-8",
    )
    mapping = Mapping.from_file(tmp_path / "sip.yaml")
    assert mapping == Mapping(**SIP_MAPPING, joins=(SIP / "est-act-dates.csv",))
    again = load_history(SIP / "Sip-task-info.csv", mapping)
    pd.testing.assert_frame_equal(again.tasks, sip.tasks)
    assert again.notes == sip.notes


@needs_sip
def test_sip_dates_read_without_a_format(sip: History) -> None:
    mapping = Mapping(**{**SIP_MAPPING, "date_format": None}, joins=(SIP / "est-act-dates.csv",))
    again = load_history(SIP / "Sip-task-info.csv", mapping)
    pd.testing.assert_series_equal(again.tasks["date"], sip.tasks["date"])


# --- hostile files --------------------------------------------------------------------------

Content = str | bytes | Callable[[Path], None]


@dataclass
class Case:
    """One history file (plus any other files), the mapping, and what must happen."""

    id: str
    files: dict[str, Content]
    mapping: dict[str, Any]
    error: str | None = None  # message substring of one problem
    where: tuple[int, int] | None = None  # its (row, column)
    check: Callable[[History], None] | None = None
    main: str = ""  # the history file (default: the first of files)
    extra: dict[str, Any] = field(default_factory=dict)


BASIC: dict[str, Any] = {"id_col": "id", "estimate_col": "est", "actual_col": "act"}


def _notes(h: History, text: str) -> list[CleaningNote]:
    return [n for n in h.notes if text in n.reason]


def _column(name: str, expected: list[Any]) -> Callable[[History], None]:
    def check(h: History) -> None:
        assert h.tasks[name].tolist() == expected

    return check


def _has_notes(*reasons: str) -> Callable[[History], None]:
    def check(h: History) -> None:
        assert set(reasons) <= {n.reason for n in h.notes}, h.notes

    return check


def _xlsx(
    rows: list[list[Any]], *, at_row: int = 1, sheet: str = "Tasks", first_sheet: str | None = None
) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        if first_sheet:
            ws.title = first_sheet
            ws.append(["nothing", "here"])
            ws = book.create_sheet(sheet)
        else:
            ws.title = sheet
        for r, values in enumerate(rows, start=at_row):
            for c, value in enumerate(values, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        book.save(path)

    return write


def _pandas_xlsx(path: Path) -> None:
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "est": [1.5, 2.0, 4.0],
            "act": [3.0, 2.0, 5.0],
            "when": pd.to_datetime(["2011-05-01", "2011-05-02", "2011-05-03"]),
        }
    ).to_excel(path, index=False)


def _check_bom(h: History) -> None:
    assert list(h.tasks["id"]) == ["1", "2"]
    assert list(h.tasks["team"]) == ["Équipe", "(missing)"]


def _check_cp1252(h: History) -> None:
    assert list(h.tasks["team"]) == ["Données", "Équipe Rouge", "R&D \u2013 Œuvre €"]


def _check_decimal_comma(h: History) -> None:
    assert list(h.tasks["estimate"]) == [3.5, 1234.5, 2.0]
    assert list(h.tasks["actual"]) == [4.25, 8.0, 0.5]


def _check_serial(h: History) -> None:
    assert list(h.tasks["date"]) == [
        pd.Timestamp("2012-01-01"),
        pd.Timestamp("2012-01-02 12:00"),
        pd.Timestamp("2011-12-31"),
    ]


def _check_day_first(h: History) -> None:
    assert list(h.tasks["date"]) == [pd.Timestamp("2012-04-03"), pd.Timestamp("2012-06-05")]


def _check_blank_rows(h: History) -> None:
    assert list(h.tasks["row"]) == [3, 6]
    assert h.rows_read == 2
    assert h.notes == (CleaningNote(3, "est, act", "changed", h.notes[0].reason),)  # 8 on line 3


def _check_same_duplicates(h: History) -> None:
    assert list(h.tasks["id"]) == ["7", "8"]
    assert [(n.row, n.action, n.column) for n in _notes(h, "same task listed again")] == [
        (3, "dropped", "id"),
        (5, "dropped", "id"),
    ]
    assert "kept row 2" in h.notes[1].reason


def _check_disagreeing_duplicates(h: History) -> None:
    (note,) = _notes(h, "duplicate id '7'")
    assert note.row == 4
    assert "actual '12' differs from '10' in the kept row 2" in note.reason
    assert h.tasks.loc[h.tasks["id"] == "7", "actual"].item() == 10 / 8


def _check_missing_values(h: History) -> None:
    assert list(h.tasks["id"]) == ["1", "4", "5", "6"]
    assert [(n.row, n.column, n.reason) for n in h.notes if n.action == "dropped"] == [
        (3, "act", "actual is missing ('N/A')"),
        (4, "est", "estimate is missing ('-')"),
        (4, "act", "actual is missing (empty)"),
    ]


def _check_xlsx(h: History) -> None:
    assert list(h.tasks["row"]) == [4, 6]
    assert list(h.tasks["estimate"]) == [1.0, 2.5]
    assert list(h.tasks["date"]) == [pd.Timestamp("2012-01-03"), pd.Timestamp("2012-01-01")]


def _check_pandas_xlsx(h: History) -> None:
    assert list(h.tasks["estimate"]) == [1.5, 2.0, 4.0]
    assert list(h.tasks["date"].dt.day) == [1, 2, 3]


def _check_not_numbers(h: History) -> None:
    assert [n.reason for n in h.notes if n.action == "dropped"] == [
        "estimate 'abc' is not a number",
        "actual '8h' is not a number",
    ]
    assert len(h.tasks) == 3


def _check_non_positive(h: History) -> None:
    assert [(n.row, n.reason) for n in h.notes if n.action == "dropped"] == [
        (2, "estimate 0 is not positive"),
        (3, "actual -2 is not positive"),
    ]


def _check_minutes(h: History) -> None:
    assert list(h.tasks["estimate"]) == [0.1875, 1.0]
    (note,) = h.notes
    assert note.action == "changed"
    assert "90 minutes -> 0.1875 days" in note.reason


def _check_bad_date(h: History) -> None:
    assert len(h.tasks) == 3
    assert h.tasks["date"].isna().tolist() == [False, True, False]
    (note,) = _notes(h, "unparseable date")
    assert (note.row, note.column, note.action) == (3, "when", "changed")
    assert "'31/31/2012'" in note.reason


def _check_join(h: History) -> None:
    assert list(h.tasks["date"]) == [pd.Timestamp("2010-01-05"), pd.NaT]
    assert list(h.tasks["team"]) == ["red", "(missing)"]


def _check_quoted_newline(h: History) -> None:
    assert list(h.tasks["row"]) == [2, 4]


def _check_wide_row(h: History) -> None:
    (note,) = [n for n in h.notes if n.action == "dropped"]
    assert note.row == 3
    assert "row has 4 cells but the header has 3" in note.reason


def _check_outliers(h: History) -> None:
    (note,) = [n for n in h.notes if n.action == "dropped"]
    assert note.row == 7
    assert "outside [Q1/10, Q3*10]" in note.reason


ROWS = "".join(f"{k},8,8\n" for k in range(10, 13))  # three good rows
XLSX_ROWS: list[list[Any]] = [
    ["id", "est", "act", "when"],
    [1, 8, 8, dt.datetime(2012, 1, 3)],
    [None, None, None, None],
    [2.0, 20, 16, 40909],
]

CASES = [
    Case(
        "utf8-bom",
        {"h.csv": "\ufeffid,est,act,team\n1,8,8,Équipe\n2,8,8,N/A\n".encode()},
        {**BASIC, "class_cols": ["team"]},
        check=_check_bom,
    ),
    Case(
        "utf16-bom",
        {"h.csv": "id\test\tact\n1\t8\t16\n".encode("utf-16")},
        BASIC,
        check=_column("actual", [2.0]),
    ),
    Case(
        "cp1252-accents",
        {
            "h.csv": "id,est,act,team\n1,8,8,Données\n2,8,8,Équipe Rouge\n"
            "3,8,8,R&D \u2013 Œuvre €\n".encode("cp1252")
        },
        {**BASIC, "class_cols": ("team",)},
        check=_check_cp1252,
    ),
    Case(
        "semicolon-decimal-comma",
        {"h.csv": "id;est;act\n1;3,5;4,25\n2;1.234,5;8\n3;2;0,5\n"},
        {**BASIC, "units": "days"},
        check=_check_decimal_comma,
    ),
    Case("pipe-delimited", {"h.csv": "id|est|act\n1|8|4\n"}, BASIC, check=_column("actual", [0.5])),
    Case(
        "excel-serial-dates",
        {"h.csv": "id,est,act,when\n1,8,8,40909\n2,8,8,40910.5\n3,8,8,2011-12-31\n"},
        {**BASIC, "date_col": "when"},
        check=_check_serial,
    ),
    Case(
        "ambiguous-day-month",
        {"h.csv": "id,est,act,when\n1,8,8,03/04/2012\n2,8,8,05/06/2012\n"},
        {**BASIC, "date_col": "when"},
        error="--date-format",
        where=(2, 4),
    ),
    Case(
        "ambiguous-with-format",
        {"h.csv": "id,est,act,when\n1,8,8,03/04/2012\n2,8,8,05/06/2012\n"},
        {**BASIC, "date_col": "when", "date_format": "%d/%m/%Y"},
        check=_check_day_first,
    ),
    Case(
        "day-first-shown-by-data",
        {"h.csv": "id,est,act,when\n1,8,8,03/04/2012\n2,8,8,25/06/2012\n"},
        {**BASIC, "date_col": "when"},
        check=_column("date", [pd.Timestamp("2012-04-03"), pd.Timestamp("2012-06-25")]),
    ),
    Case(
        "day-and-month-first-mixed",
        {"h.csv": "id,est,act,when\n1,8,8,13/04/2012\n2,8,8,04/14/2012\n"},
        {**BASIC, "date_col": "when"},
        error="mixes day-first",
        where=(2, 4),
    ),
    Case(
        "unparseable-date",
        {"h.csv": "id,est,act,when\n1,8,8,2012-01-01\n2,8,8,31/31/2012\n3,8,8,2012-01-03\n"},
        {**BASIC, "date_col": "when"},
        check=_check_bad_date,
    ),
    Case(
        "mostly-bad-dates",
        {"h.csv": "id,est,act,when\n1,8,8,soon\n2,8,8,later\n3,8,8,2012-01-03\n"},
        {**BASIC, "date_col": "when"},
        error="2 of 3 dates cannot be read",
        where=(2, 4),
    ),
    Case(
        "blank-rows",
        {"h.csv": "id,est,act\n\n1,8,8\n,,\n  \n2,8,16\n"},
        BASIC,
        check=_check_blank_rows,
    ),
    Case(
        "duplicate-ids-agree",
        {"h.csv": "id,est,act\n7,8,10\n7,8,10\n8,4,4\n7,8.0,10\n"},
        BASIC,
        check=_check_same_duplicates,
    ),
    Case(
        "duplicate-ids-disagree",
        {"h.csv": "id,est,act\n7,8,10\n8,4,4\n7,8,12\n"},
        BASIC,
        check=_check_disagreeing_duplicates,
    ),
    Case(
        "missing-values",
        {"h.csv": "id,est,act\n1,8,8\n2,8,N/A\n3,-,\n4,8,8\n5,8,8\n6,8,8\n"},
        BASIC,
        check=_check_missing_values,
    ),
    Case(
        "missing-column",
        {"h.csv": "id,HoursEstimate,act\n1,8,8\n"},
        {**BASIC, "estimate_col": "HoursEstimat"},
        error="no column 'HoursEstimat' (the mapping's estimate_col); did you mean "
        "'HoursEstimate'?",
        where=(1, 0),
    ),
    Case("empty-file", {"h.csv": b""}, BASIC, error="file is empty", where=(0, 0)),
    Case("only-blank-lines", {"h.csv": "\n\n  \n"}, BASIC, error="file is empty", where=(0, 0)),
    Case("header-only", {"h.csv": "id,est,act\n"}, BASIC, error="no data rows", where=(1, 0)),
    Case("file-missing", {}, BASIC, error="file not found", where=(0, 0), main="nothere.csv"),
    Case(
        "xlsx-openpyxl",
        {"h.xlsx": _xlsx(XLSX_ROWS, at_row=3)},
        {**BASIC, "date_col": "when"},
        check=_check_xlsx,
    ),
    Case(
        "xlsx-named-sheet",
        {"h.xlsx": _xlsx(XLSX_ROWS, at_row=3, first_sheet="Intro")},
        {**BASIC, "date_col": "when"},
        check=_check_xlsx,
        main="h.xlsx#Tasks",
    ),
    Case(
        "xlsx-unknown-sheet",
        {"h.xlsx": _xlsx(XLSX_ROWS)},
        BASIC,
        error="no sheet 'Taks' in the workbook; its sheets are: Tasks",
        where=(0, 0),
        main="h.xlsx#Taks",
    ),
    Case(
        "xlsx-pandas",
        {"h.xlsx": _pandas_xlsx},
        {**BASIC, "date_col": "when", "units": "days"},
        check=_check_pandas_xlsx,
    ),
    Case(
        "xlsx-corrupt",
        {"h.xlsx": b"PK\x03\x04 this is no workbook"},
        BASIC,
        error="cannot read the Excel workbook",
        where=(0, 0),
    ),
    Case(
        "not-a-number",
        {"h.csv": "id,est,act\n1,abc,8\n2,8,8h\n" + ROWS},
        BASIC,
        check=_check_not_numbers,
    ),
    Case(
        "zero-and-negative",
        {"h.csv": "id,est,act\n1,0,8\n2,8,-2\n" + ROWS},
        BASIC,
        check=_check_non_positive,
    ),
    Case(
        "mostly-garbage",
        {"h.csv": "id,est,act\n1,x,8\n2,y,8\n3,8,8\n4,-,8\n"},
        BASIC,
        error="3 of 4 tasks have no usable estimate (2 not a number, 1 missing; e.g. 'x' "
        "here); is 'est' the right column?",
        where=(2, 2),
    ),
    Case(
        "minutes",
        {"h.csv": "id,est,act\n1,90,120\n2,480,480\n"},
        {**BASIC, "units": "minutes"},
        check=_check_minutes,
    ),
    Case(
        "unknown-units",
        {"h.csv": "id,est,act\n1,8,8\n"},
        {**BASIC, "units": "hour"},
        error="unknown units 'hour'; did you mean 'hours'?",
        where=(0, 0),
    ),
    Case(
        "join",
        {
            "h.csv": "id,est,act\n1,8,8\n2,8,8\n",
            "dates.csv": "id,when,team\n1,2010-01-05,red\n1,2011-01-05,blue\n9,x,y\n",
        },
        {**BASIC, "date_col": "when", "class_cols": ["team"], "joins": ["dates.csv"]},
        check=_check_join,
    ),
    Case(
        "join-without-id",
        {"h.csv": "id,est,act\n1,8,8\n", "dates.csv": "ID,when\n1,2010-01-05\n"},
        {**BASIC, "date_col": "when", "joins": ["dates.csv"]},
        error="joined file has no column 'id' (the mapping's id_col) to join on; did you mean "
        "'ID'?",
        where=(1, 0),
    ),
    Case(
        "duplicate-header",
        {"h.csv": "id,est,act,est\n1,8,8,9\n"},
        BASIC,
        error="column 'est' appears 2 times",
        where=(1, 4),
    ),
    Case(
        "quoted-newline",
        {"h.csv": 'id,est,act,note\n1,8,8,"two\nlines"\n2,8,8,x\n'},
        BASIC,
        check=_check_quoted_newline,
    ),
    Case(
        "row-with-extra-cells",
        {"h.csv": "id,est,act\n1,8,8\n2,8,8,oops\n" + ROWS},
        BASIC,
        check=_check_wide_row,
    ),
    Case(
        "old-xls",
        {"h.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100},
        BASIC,
        error="old Excel .xls",
        where=(0, 0),
    ),
    Case(
        "utf16-without-bom",
        {"h.csv": "id,est,act\n1,8,16\n".encode("utf-16-le")},
        BASIC,
        check=_column("actual", [2.0]),
    ),
    Case(
        "latin1-fallback",
        {"h.csv": b"id,est,act,team\n1,8,8,caf\x81\n"},
        {**BASIC, "class_cols": ["team"]},
        check=_column("team", ["caf\x81"]),
    ),
    Case(
        "control-characters",
        {"h.csv": b"id,est,act\n1,8\x00,8\n" + ROWS.encode()},
        BASIC,
        check=_has_notes("estimate '8\\x00' is not a number"),
    ),
    Case(
        "infinite-number",
        {"h.csv": "id,est,act\n1,inf,8\n2,8,1e400\n" + ROWS},
        BASIC,
        check=_has_notes("estimate 'inf' is not a number", "actual '1e400' is not a number"),
    ),
    Case(
        "huge-field",
        {"h.csv": 'id,est,act\n1,8,8\n2,8,"' + "x" * 200_000 + '"\n'},
        BASIC,
        error="cannot read the CSV at this row: field larger than field limit",
        where=(3, 0),
    ),
    Case(
        "wrong-delimiter",
        {"h.csv": "id est act\n1 8 8\n"},
        BASIC,
        error="a single column: is the delimiter one of",
        where=(1, 0),
    ),
    Case(
        "bad-date-format",
        {"h.csv": "id,est,act,when\n1,8,8,2012\n"},
        {**BASIC, "date_col": "when", "date_format": "%Q"},
        error="date_format '%Q' is not a strptime format",
        where=(0, 0),
    ),
    Case(
        "outliers",
        {"h.csv": "id,est,act\n1,8,8\n2,8,10\n3,8,6\n4,8,12\n5,8,8\n6,1,100\n"},
        {**BASIC, "drop_outliers": True},
        check=_check_outliers,
    ),
]


def _make(case: Case, tmp_path: Path) -> tuple[Path, Mapping]:
    for name, content in case.files.items():
        target = tmp_path / name
        if callable(content):
            content(target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
    given = dict(case.mapping)
    if "joins" in given:
        given["joins"] = [tmp_path / j for j in given["joins"]]
    main = case.main or next(iter(case.files))
    return tmp_path / main, Mapping(**given)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_history(case: Case, tmp_path: Path) -> None:
    path, mapping = _make(case, tmp_path)
    if case.error is None:
        history = load_history(path, mapping, display="h")
        assert case.check is not None
        case.check(history)
        assert history.source == "h"
        history.report()  # never fails
        return
    with pytest.raises(HistoryError) as info:
        load_history(path, mapping, display="h")
    found = [p for p in info.value.problems if case.error in p.message]
    assert found, f"{case.error!r} not in {info.value}"
    assert (found[0].line, found[0].col) == case.where, str(found[0])
    assert isinstance(info.value, PmosimError)


def test_ambiguous_date_message_suggests_both_formats(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,est,act,when\n1,8,8,03.04.12\n2,8,8,05.06.12\n")
    with pytest.raises(HistoryError) as info:
        load_history(tmp_path / "h.csv", Mapping(**BASIC, date_col="when"))
    (problem,) = info.value.problems
    assert problem.path == "when"
    assert "'%d.%m.%y' if the day comes first, '%m.%d.%y' if the month does" in problem.message
    assert str(problem).startswith(f"{tmp_path / 'h.csv'}:2:4: when: date '03.04.12'")


def test_all_problems_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,HoursEstimate,act\n1,8,8\n")
    mapping = Mapping(
        estimate_col="HoursEstimat",
        actual_col="actual",
        id_col="id",
        class_cols=("team",),
        units="weeks",
        joins=(tmp_path / "gone.csv",),
    )
    with pytest.raises(HistoryError) as info:
        load_history(tmp_path / "h.csv", mapping, display="h.csv")
    messages = str(info.value)
    for expected in ("units 'weeks'", "gone.csv: file not found"):
        assert expected in messages
    (tmp_path / "gone.csv").write_text("id,x\n1,2\n")
    with pytest.raises(HistoryError) as info:
        load_history(tmp_path / "h.csv", mapping, display="h.csv")
    assert [p.path for p in info.value.problems] == [
        "mapping.units",
        "HoursEstimat",
        "actual",
        "team",
    ]
    assert "the columns are h.csv: id, HoursEstimate, act; " in info.value.problems[1].message


def test_report_groups_reasons_with_first_rows(tmp_path: Path) -> None:
    rows = "".join(f"{k},8,N/A\n" for k in range(2, 7)) + "".join(
        f"{k},8,4\n" for k in range(10, 20)
    )
    (tmp_path / "h.csv").write_text("id,est,act\n" + rows)
    text = load_history(tmp_path / "h.csv", Mapping(**BASIC), display="h.csv").report()
    assert text.splitlines()[0] == (
        "h.csv: 15 rows read, 10 tasks kept, 5 rows dropped (each once, by first reason)"
    )
    assert "dropped [act]: actual is missing ('...'): 5 rows" in text
    assert "row 2: actual is missing ('N/A')" in text
    assert "... and 2 more" in text


def test_large_ints_and_thousands_separators(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text('id,est,act\n1,"1,200",1e3\n2,"12,5",  7 \n')
    history = load_history(tmp_path / "h.csv", Mapping(**BASIC, units="days"))
    assert history.tasks["estimate"].tolist() == [1200.0, 12.5]
    assert history.tasks["actual"].tolist() == [1000.0, 7.0]


def test_no_id_column_uses_rows_and_missing_ids_are_named(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,est,act\n1,8,8\n,8,4\n")
    by_row = load_history(tmp_path / "h.csv", Mapping("est", "act"))
    assert by_row.tasks["id"].tolist() == ["2", "3"]
    by_id = load_history(tmp_path / "h.csv", Mapping(**BASIC))
    assert by_id.tasks["id"].tolist() == ["1", "row-3"]
    assert by_id.notes[1] == CleaningNote(
        3, "id", "changed", "id is missing; the task is called 'row-3'"
    )


def test_tasks_columns_and_types(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,est,act,cat\n1,8,8,a\n")
    tasks = load_history(tmp_path / "h.csv", Mapping(**BASIC, class_cols=("cat",))).tasks
    assert list(tasks.columns) == ["id", "estimate", "actual", "date", "row", "cat"]
    assert tasks["date"].dtype == "datetime64[ns]"
    assert tasks["date"].isna().all()
    assert tasks["row"].dtype == np.int64
    assert tasks["estimate"].dtype == np.float64
    assert isinstance(tasks["id"].iloc[0], str)


# --- mapping files --------------------------------------------------------------------------


def test_mapping_file_equals_code_and_resolves_joins(tmp_path: Path) -> None:
    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "m.yaml").write_text(
        "id_col: id\nestimate_col: est\nactual_col: act\n"
        "class_cols: team\njoins: [../dates.csv]\ndate_col: when\n"
        "units: days\nhours_per_day: 7.5\ndrop_outliers: no\n"
    )
    mapping = Mapping.from_file(folder / "m.yaml")
    assert mapping == Mapping(
        id_col="id",
        estimate_col="est",
        actual_col="act",
        class_cols=["team"],  # type: ignore[arg-type]
        joins=(folder / ".." / "dates.csv",),
        date_col="when",
        units="days",
        hours_per_day=7.5,
    )
    assert mapping.class_cols == ("team",)
    one = Mapping(
        "est",
        "act",
        id_col="id",
        class_cols="team",  # type: ignore[arg-type]
        joins="dates.csv",
    )  # type: ignore[arg-type]
    assert (one.class_cols, one.joins) == (("team",), (Path("dates.csv"),))


def test_mapping_file_unknown_key_is_located(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "estimate_col: est\nactual_col: act\nunit: days\nhours_per_day: many\n"
    )
    with pytest.raises(HistoryError) as info:
        Mapping.from_file(tmp_path / "m.yaml")
    unknown, bad_number = info.value.problems
    assert (unknown.line, unknown.col, unknown.path) == (3, 1, "unit")
    assert "unknown key 'unit'; did you mean 'units'?" in unknown.message
    assert (bad_number.line, bad_number.path) == (4, "hours_per_day")


def test_mapping_file_missing_keys_and_bad_values(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "actual_col: act\nunits: weeks\nclass_cols: {a: 1}\njoins: [x.csv]\n"
    )
    with pytest.raises(HistoryError) as info:
        Mapping.from_file(tmp_path / "m.yaml")
    where = {(p.path, p.line) for p in info.value.problems}
    assert where == {("estimate_col", 1), ("units", 2), ("class_cols", 3), ("joins", 4)}


def test_mapping_file_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("estimate_col: [unclosed\n")
    with pytest.raises(HistoryError, match="YAML syntax error"):
        Mapping.from_file(tmp_path / "m.yaml")
    with pytest.raises(HistoryError, match="cannot read file"):
        Mapping.from_file(tmp_path / "none.yaml")


def test_unit_conversion_note_names_the_line_of_its_example(tmp_path: Path) -> None:
    # line 1 is the header, line 2 is dropped (no estimate), so the first kept value, 4
    # hours, is on line 3: 4 hours at 8 hours a day is 0.5 days
    (tmp_path / "h.csv").write_text("id,est,act\n1,N/A,8\n2,4,8\n3,16,8\n")
    history = load_history(tmp_path / "h.csv", Mapping(**BASIC), display="h.csv")
    converted = [n for n in history.notes if n.reason.startswith("converted hours")]
    assert [n.row for n in converted] == [3]
    assert "e.g. 4 hours -> 0.5 days (row 3)" in history.report()


def test_report_counts_each_dropped_row_once_by_first_reason(tmp_path: Path) -> None:
    # rows 2-3 lack both estimate and actual, row 4 only the estimate, row 5 only the actual,
    # row 7 repeats id 7 (row 6), rows 8-15 are fine: 14 rows, 9 tasks, five rows dropped,
    # 3 + 1 + 1 by first reason (estimate, actual, duplicate), not 3 + 3 + 1 = 7 as when
    # each reason counted every row it applies to
    good = "".join(f"{k},4,{k}\n" for k in range(8, 16))
    rows = "2,,\n3,,\n4,,8\n5,8,\n7,8,8\n7,8,8\n" + good
    (tmp_path / "h.csv").write_text("id,est,act\n" + rows)
    text = load_history(tmp_path / "h.csv", Mapping(**BASIC), display="h.csv").report()
    lines = text.splitlines()
    assert lines[0] == (
        "h.csv: 14 rows read, 9 tasks kept, 5 rows dropped (each once, by first reason)"
    )
    assert "  dropped [est]: estimate is missing (empty): 3 rows" in lines
    assert "      row 2: estimate is missing (empty); also actual is missing (empty)" in lines
    assert "  dropped [act]: actual is missing (empty) (row 5)" in lines
    assert any(line.startswith("  dropped [id]: duplicate id '7'") for line in lines)
    counts = [
        int(line.rsplit(": ", 1)[1].split()[0]) if line.endswith("rows") else 1
        for line in lines
        if line.startswith("  dropped")
    ]
    assert counts == [3, 1, 1]
