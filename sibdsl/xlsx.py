"""Spreadsheets in and out: `.xlsx` outcome and scenario tables → rows of exact values; a
settlement or a simulation report → an `.xlsx` workbook with amounts as numbers.

Reading (openpyxl, read-only, the values Excel last computed): the first worksheet, one list
per row. Text cells stay text (the number parser in sibdsl/numbers.py reads them as it reads
CSV); number cells become the `Decimal` Excel shows (numbers.decimal_of_cell); date cells
`datetime.date`; yes/no cells `bool`; empty cells "". So that diagnostics can show a row with
a caret like any text file, the sheet is also written out as text (cells separated by tabs,
one line per spreadsheet row, so line N is row N), and every diagnostic on it is prefixed with
its cell: `Utfall!C3: ...`.

OpenDocument spreadsheets (`.ods`, LibreOffice's own format) are read the same way with
python-calamine (the extra `ods`), into the same rows, text and cell references.

openpyxl and python-calamine are imported only here, and only when a workbook is read or written.
"""

from __future__ import annotations

import datetime
import zipfile
import zlib
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from .diagnostics import Diagnostic, SibError
from .numbers import NumberFormatError, decimal_of_cell
from .source import Source, Span

#: a table with more rows or columns than this is not an outcome or scenario file
MAX_ROWS, MAX_COLUMNS = 100_000, 1_000
SUFFIXES = (".xlsx", ".xlsm")
#: the significant digits a spreadsheet number holds exactly (an IEEE double shows 15)
EXACT_DIGITS = 15


def is_workbook(path: str | Path) -> bool:
    return str(path).lower().endswith(SUFFIXES + ODS_SUFFIXES)


#: OpenDocument spreadsheets (LibreOffice, Collabora, Google Sheets' download), read with python-calamine
ODS_SUFFIXES = (".ods",)
ODS_EXTRA = "ods"


def is_opendocument(path: str | Path) -> bool:
    return str(path).lower().endswith(ODS_SUFFIXES)


def _read_ods(name: str, code: str) -> tuple[str, list[list[object]], list[tuple[int, int, NumberFormatError]]]:
    """(sheet name, rows, cells that are not exact numbers) of the first sheet of an .ods file.

    python-calamine (Rust's calamine) parses the OpenDocument XML; cells come as float, int, str,
    bool, date, datetime, time or timedelta, the same kinds openpyxl gives, and go through the same
    exact conversion. Empty leading rows and columns are kept, so that B3 is B3."""
    from .outcomes import read_error

    try:
        import python_calamine
    except ImportError:
        raise SibError([Diagnostic("E520", f"cannot read {name}: reading OpenDocument spreadsheets needs "
                                   "python-calamine, which this installation of sibc does not have",
                                   Source(name, ""), None,
                                   hint=f"install the extra: pip install 'sibdsl[{ODS_EXTRA}]' — or save the sheet "
                                   "as .xlsx or as CSV UTF-8")]) from None
    _check_unpacked_size(name, code)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(name)
    except OSError as err:
        raise SibError([read_error(name, err)]) from None
    except Exception:  # noqa: BLE001 — calamine's errors (CalamineError, XmlError, ZipError, …) share no base
        raise SibError([Diagnostic("E001", f"cannot read {name}: it is not an OpenDocument spreadsheet (.ods)",
                                   Source(name, ""), None,
                                   hint="save it from LibreOffice as .ods or .xlsx, or as CSV UTF-8")]) from None
    try:
        if not workbook.sheet_names:
            raise SibError([Diagnostic(code, f"{name} has no sheet", Source(name, ""), None,
                                       hint="put the table on the first sheet")])
        try:
            sheet = workbook.get_sheet_by_index(0)
        except Exception:  # noqa: BLE001 — a sheet calamine cannot parse
            raise SibError([Diagnostic("E001", f"cannot read {name}: its first sheet is not a readable table",
                                       Source(name, ""), None,
                                       hint="save it again from LibreOffice as .ods or .xlsx, or as CSV UTF-8")]) from None
        title = sheet.name
        rows_used, columns_used = sheet.total_height, sheet.total_width
        if rows_used > MAX_ROWS or columns_used > MAX_COLUMNS:
            last = f"{column_letter(columns_used)}{rows_used}"
            raise SibError([Diagnostic(code, f"the sheet {title} is used up to cell {last}; a table may have at most "
                                       f"{MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns", Source(name, ""), None,
                                       hint="clear the cells beyond the table, or split the table over several "
                                       "files")])
        try:
            raw = sheet.to_python(skip_empty_area=False)
        except Exception:  # noqa: BLE001 — calamine's errors share no base class; a damaged sheet
            raise SibError([_broken(name, "OpenDocument spreadsheet (.ods)")]) from None
    finally:
        workbook.close()
    values: list[list[object]] = []
    problems: list[tuple[int, int, NumberFormatError]] = []
    for i, row in enumerate(raw):
        cells = [_cell(value, i, j, problems) for j, value in enumerate(row)]
        while cells and cells[-1] == "":
            cells.pop()
        values.append(cells)
    return title, values, problems


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@attrs.frozen
class Sheet:
    """One worksheet read as a table: values, the text that stands for it, and where each cell is."""

    name: str
    source: Source
    rows: list[list[object]]
    spans: list[list[Span]]  # spans[i][j]: cell j of row i in `source`
    line_spans: list[Span]

    def ref(self, row: int, column: int) -> str:
        """`Utfall!C3` for the 0-based row and column."""
        quoted = f"'{self.name}'" if not self.name.replace("_", "").isalnum() else self.name
        return f"{quoted}!{column_letter(column + 1)}{row + 1}"

    def cell_of(self, span: Span) -> str | None:
        """The reference of the cell a span lies in (the row, `Utfall!3:3`, for a whole row)."""
        row = span.line - 1
        if not 0 <= row < len(self.spans):
            return None
        start, end = self.source.offsets(span)
        for j, cell in enumerate(self.spans[row]):
            cell_start, cell_end = self.source.offsets(cell)
            if cell_start <= start < max(cell_end, cell_start + 1) and end <= cell_end + 1:
                return self.ref(row, j)
        quoted = f"'{self.name}'" if not self.name.replace("_", "").isalnum() else self.name
        return f"{quoted}!{row + 1}:{row + 1}"

    def locate(self, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
        """Each diagnostic on this sheet with its cell (sheet!cell) at the start of its message."""
        out = []
        for d in diagnostics:
            if d.source is self.source and d.span is not None and (ref := self.cell_of(d.span)):
                d = attrs.evolve(d, message=f"{ref}: {d.message}")
            out.append(d)
        return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


#: what a workbook may unpack to: its XML is several times the size of the values it holds, and a
#: zip bomb (a few KB that unpack to gigabytes) must be refused before anything is unpacked
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


def _check_unpacked_size(name: str, code: str) -> None:
    from .limits import MAX_OUTCOME_BYTES
    from .outcomes import read_error

    try:
        packed = Path(name).stat().st_size
        with zipfile.ZipFile(name) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except OSError as err:
        raise SibError([read_error(name, err)]) from None
    except zipfile.BadZipFile:
        return  # load_workbook says it is not a workbook
    if packed > MAX_OUTCOME_BYTES or unpacked > MAX_UNPACKED_BYTES:
        raise SibError([Diagnostic(code, f"the workbook is {packed:,} bytes and unpacks to {unpacked:,}; the limits "
                                   f"are {MAX_OUTCOME_BYTES:,} and {MAX_UNPACKED_BYTES:,}", Source(name, ""), None,
                                   hint="an outcome or scenario table is far smaller: save only the table's sheet")])


def read_sheet(path: str | Path, code: str) -> Sheet:
    """The first worksheet of a workbook; SibError (E001, or `code` for a malformed sheet)."""
    from .outcomes import read_error

    name = str(path)
    if is_opendocument(name):
        title, values, problems = _read_ods(name, code)
        return _sheet(name, title, values, problems, code)
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - openpyxl is a core dependency; a broken install
        raise SibError([Diagnostic("E001", f"cannot read {name}: reading .xlsx needs openpyxl",
                                   Source(name, ""), None,
                                   hint="pip install openpyxl, or save the sheet as CSV UTF-8")]) from None
    _check_unpacked_size(name, code)
    try:
        workbook = openpyxl.load_workbook(name, read_only=True, data_only=True)
    except (OSError, InvalidFileException, *BROKEN_ARCHIVE) as err:
        if isinstance(err, OSError) and not isinstance(err, zipfile.BadZipFile | EOFError):
            raise SibError([read_error(name, err)]) from None
        raise SibError([Diagnostic("E001", f"cannot read {name}: it is not an Excel workbook (.xlsx)",
                                   Source(name, ""), None,
                                   hint="save it from Excel or LibreOffice as .xlsx, or as CSV UTF-8")]) from None
    try:
        sheet = workbook.worksheets[0]
        values: list[list[object]] = []
        problems: list[tuple[int, int, NumberFormatError]] = []
        # the used range the file declares (a cell typed in XFD1048576 makes it the whole grid): refused
        # before reading, and the reading itself bounded, so that no workbook takes minutes
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > MAX_ROWS or declared_columns > MAX_COLUMNS:
            last = f"{column_letter(declared_columns)}{declared_rows}"
            raise SibError([Diagnostic(code, f"the sheet {sheet.title} is used up to cell {last}; a table may have "
                                       f"at most {MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns", Source(name, ""),
                                       None, hint="clear the cells beyond the table (Ctrl+End shows the last one), "
                                       "or split the table over several files")])
        for i, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)):
            if i >= MAX_ROWS:
                raise SibError([Diagnostic(code, f"the sheet {sheet.title} has more than {MAX_ROWS:,} rows",
                                           Source(name, ""), None, hint="split the table over several files")])
            if row.count(None) == len(row):  # an empty row (and the gaps a sparse sheet is filled with): fast
                values.append([])
                continue
            cells = [_cell(value, i, j, problems) for j, value in enumerate(row)]
            while cells and cells[-1] == "":
                cells.pop()
            values.append(cells)
        title = sheet.title
    except BROKEN_ARCHIVE:  # read-only mode inflates and parses the sheet while iterating its rows
        raise SibError([_broken(name, "Excel workbook (.xlsx)")]) from None
    finally:
        workbook.close()
    return _sheet(name, title, values, problems, code)


#: what a damaged archive raises while a sheet is read: inflating (zlib), the zip's own records,
#: and the XML inside (ElementTree's and lxml's parse errors are SyntaxErrors)
BROKEN_ARCHIVE = (zlib.error, zipfile.BadZipFile, EOFError, KeyError, IndexError, ValueError, TypeError, SyntaxError)


def _broken(name: str, kind: str) -> Diagnostic:
    return Diagnostic("E001", f"cannot read {name}: it is a damaged {kind}; its contents could not be unpacked",
                      Source(name, ""), None,
                      hint="open it in Excel or LibreOffice and save it again, or save the sheet as CSV UTF-8")


def _sheet(name: str, title: str, values: list[list[object]], problems: list[tuple[int, int, NumberFormatError]],
           code: str) -> Sheet:
    """The Sheet of the cell values read from a workbook (the text that stands for it, the spans)."""
    while values and not values[-1]:
        values.pop()
    lines, spans, line_spans, offset = [], [], [], 0
    for cells in values:
        texts = [_text(v) for v in cells]
        line = "\t".join(texts)
        row_spans, at = [], offset
        for t in texts:
            row_spans.append((at, at + max(len(t), 1)))
            at += len(t) + 1
        spans.append(row_spans)
        line_spans.append((offset, offset + len(line)))
        lines.append(line)
        offset += len(line) + 1
    source = Source(name, "\n".join(lines) + ("\n" if lines else ""))
    result = Sheet(title, source, values, [[source.span(a, b) for a, b in row] for row in spans],
                   [source.span(a, b) for a, b in line_spans])
    if problems:
        raise SibError(result.locate([Diagnostic(code, err.reason, source, result.spans[i][j], hint=err.hint)
                                      for i, j, err in problems]))
    return result


# ---------------------------------------------------------------- writing
def currency_format(currency: str, decimals: bool, lang: str = "en") -> str:
    """An Excel number format for amounts in `currency`: `#,##0 "SEK"`, in Swedish `#,##0 "kr"`
    for kronor, as lang.format_money writes them. Excel shows the grouping and decimal mark of the
    reader's own locale (a Swedish Excel: `12 000 000 kr`, `1 234,50 kr`), and the value stays a number."""
    unit = "kr" if lang == "sv" and currency == "SEK" else currency
    return f'#,##0{".00" if decimals else ""} "{unit}"'


def _number(value: Decimal | Fraction | int) -> int | Decimal:
    """An amount for a cell: an int, or a Decimal of at most 15 significant digits, which the
    file's double holds exactly as Excel shows it (write_workbook writes longer ones as text)."""
    from .values import to_decimal

    number = to_decimal(Fraction(value)) if not isinstance(value, Decimal) else value
    return int(number) if number == number.to_integral_value() else number


def write_workbook(path_or_stream, sheets: Sequence[tuple[str, Sequence[Sequence[object]], dict]]) -> None:
    """Write sheets of (title, rows, {"money": set of 0-based columns, "currency": code, "lang":
    the language of its number formats (currency_format), "percent": set of columns, "widths":
    {column: width}}). The first row of each sheet is its
    header (bold, frozen). Money cells are numbers with the currency's number format; text cells
    that a spreadsheet would take for a formula are written as text, never as formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows, style in sheets:
        sheet = workbook.create_sheet(title[:31])
        money, percent = style.get("money", set()), style.get("percent", set())
        currency, lang = style.get("currency", "SEK"), style.get("lang", "en")
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                cell = sheet.cell(row=i + 1, column=j + 1)
                if isinstance(value, Fraction | Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
                    number = _number(value)
                    if len(Decimal(number).normalize().as_tuple().digits) > EXACT_DIGITS:
                        # a spreadsheet number keeps 15 digits: more is written as exact text, right-aligned
                        cell.value, cell.data_type = str(number), "s"
                        cell.alignment = Alignment(horizontal="right")
                        continue
                    cell.value = number
                    if j in money and i > 0:
                        cell.number_format = currency_format(currency, not isinstance(number, int), lang)
                    elif j in percent and i > 0:
                        cell.number_format = "0.0%"
                elif isinstance(value, str):
                    cell.value = value
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                else:
                    cell.value = value
                if i == 0:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for j, width in style.get("widths", {}).items():
            sheet.column_dimensions[column_letter(j + 1)].width = width
    workbook.save(path_or_stream)


def _cell(value, i: int, j: int, problems: list) -> object:
    """A spreadsheet cell as the tables read it (both readers: .xlsx and .ods): empty as "", text
    and booleans as they are, a date (a date-time at midnight too) as a date, a number as the exact
    decimal it shows (a problem recorded at row i, column j, and its repr kept), anything else (a
    time of day, a duration, an error value such as #DIV/0!) as its text."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, datetime.datetime):
        return value.date() if value.time() == datetime.time(0) else value
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float):
        try:
            return decimal_of_cell(value)
        except NumberFormatError as err:
            problems.append((i, j, err))
            return repr(value)
    return str(value)
