"""A bulk import's files, checked before anything is stored: the CSV of subjects and the zip of photos.

`check_files` runs when the import is submitted (the admin's form and actions.start_import),
so a damaged, encrypted, oversized or ambiguous zip is refused with a reason at once instead
of failing half-way in the background. Each problem is a code with parameters
(enrollment/reasons.py). No member is ever extracted to disk: photos are read into memory
by their base name (folders inside the zip do not matter).
"""

import csv
import io
import zipfile
import zlib
from datetime import datetime, time
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.utils import timezone

from enrollment.reasons import problem

MAX_ROWS = 10_000
# What reading a damaged, truncated, encrypted or oddly compressed zip member raises.
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def parse_expiry(value: str) -> datetime | None:
    """The end of the day written YYYY-MM-DD or DD/MM/YYYY, in the server's time zone; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    for layout in DATE_FORMATS:
        try:
            day = datetime.strptime(value, layout).date()  # noqa: DTZ007 - made aware below
        except ValueError:
            continue
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
    raise ValueError(value)


def _skipped(info: zipfile.ZipInfo) -> bool:
    """Folders and the resource forks macOS adds to every zip it makes (__MACOSX/._img1.jpg)."""
    path = PurePosixPath(info.filename)
    return info.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name.startswith("._")


def photos_in_zip(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Zip members by base name."""
    return {PurePosixPath(info.filename).name: info for info in archive.infolist() if not _skipped(info)}


def read_rows(data: bytes) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The CSV's rows (keys stripped and lower-cased), or the problems that refuse it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [problem("import.not_utf8")]
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [name.strip().lower() for name in reader.fieldnames or []]
        if "full_name" not in header:
            return [], [problem("import.no_header")]
        rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except csv.Error as exc:
        return [], [problem("import.bad_csv", line=getattr(exc, "line_num", None) or "?")]
    if len(rows) > MAX_ROWS:
        return [], [problem("import.too_many_rows", count=len(rows), limit=MAX_ROWS)]
    return rows, []


def check_zip(data: bytes) -> list[dict[str, Any]]:
    """Every reason to refuse this zip: not a zip, too many files or bytes, names twice, encrypted or damaged members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return [problem("import.not_a_zip")]
    members = [info for info in archive.infolist() if not _skipped(info)]
    if len(members) > settings.IMPORT_MAX_PHOTOS:
        return [problem("import.too_many_photos", count=len(members), limit=settings.IMPORT_MAX_PHOTOS)]
    unpacked = sum(info.file_size for info in members)
    if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        return [problem("import.zip_too_large", size_bytes=unpacked, limit_bytes=settings.IMPORT_MAX_UNPACKED_BYTES)]
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for info in members:
        name = PurePosixPath(info.filename).name
        if name in seen:
            problems.append(problem("import.duplicate_member", member=name))
        seen.add(name)
        if info.flag_bits & 0x1:
            problems.append(problem("import.encrypted_member", member=info.filename))
            continue
        try:
            # Reading to the end checks the CRC; the declared size bounds what is read (checked above).
            with archive.open(info) as member:
                while member.read(1 << 20):
                    pass
        except MEMBER_ERRORS:
            problems.append(problem("import.damaged_member", member=info.filename))
    return problems


def check_files(csv_data: bytes, zip_data: bytes) -> dict[str, list[dict[str, Any]]]:
    """The problems of each file, by the import job's field name; empty when both are fit to import."""
    found = {"csv_file": read_rows(csv_data)[1], "zip_file": check_zip(zip_data)}
    return {field: problems for field, problems in found.items() if problems}
