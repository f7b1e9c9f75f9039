"""Due dates as a facilitator writes them, read in the cohort's time zone.

A facilitator types a date the way people write one ("2027-01-15 17:00", "Jan 15 2027 5pm",
"15 January 2027"); it is read in the time zone set in grader_config.py
(`c.CourseSettings.time_zone`, an IANA name such as "America/Chicago"; UTC by default) unless it
names an offset or UTC itself, and stored the way nbgrader stores due dates: in UTC, without a
zone. A date without a time means the end of that day (23:59). A date that could be read two
ways (01/02/2027: 2 January or 1 February?) or that leaves out the day or the year is refused
with the forms that work, never guessed.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, tzinfo

FORMS = "2027-01-15 17:00, Jan 15 2027 5pm or 15 January 2027 (the end of that day)"
_NUMERIC = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")


class DateError(ValueError):
    """A date that cannot be read without guessing; the message says why and what works."""


def parse_when(text: str) -> datetime:
    """The date and time `text` names: without a zone (wall-clock time, to be read in the
    cohort's zone) unless it gives an offset or says UTC. Raises DateError."""
    from dateutil import parser
    from dateutil.parser import UnknownTimezoneWarning

    value = " ".join(text.split())
    if not value:
        raise DateError(f"the date is empty; write it as {FORMS}")
    numeric = _NUMERIC.search(value)
    if numeric and numeric.group(1) != numeric.group(2) and max(
            int(numeric.group(1)), int(numeric.group(2))) <= 12:
        raise DateError(f"{text!r} could mean two different days (month first or day first); "
                        f"write it as {FORMS}")
    # Parsed against two different default dates and two default hours: whatever changes with
    # the default was not in the text.
    defaults = (datetime(2000, 1, 1, 0, 0), datetime(2001, 2, 2, 23, 0))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first, second = (parser.parse(value, default=d) for d in defaults)
    except (ValueError, OverflowError):
        raise DateError(f"{text!r} is not a date and time; write it as {FORMS}") from None
    if any(issubclass(w.category, UnknownTimezoneWarning) for w in caught):
        raise DateError(f"{text!r} names a time zone by an abbreviation, which can mean several "
                        "zones; leave it out (the cohort's time zone is used) or write an "
                        "offset such as 17:00-06:00")
    if first.date() != second.date():
        raise DateError(f"{text!r} leaves out the day, month or year; write it as {FORMS}")
    if first.hour != second.hour:  # no time given: the end of that day
        first = first.replace(hour=23, minute=59)
    return first


def to_utc(when: datetime, tz: tzinfo) -> datetime:
    """A parsed date as nbgrader stores due dates: UTC, without a zone. A time without a zone
    is read in `tz`."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=tz)
    return aware.astimezone(UTC).replace(tzinfo=None)


def local(due_utc: datetime, tz: tzinfo) -> str:
    """A stored (UTC) due date as the cohort's wall-clock time: "Fri 15 Jan 2027, 17:00"."""
    when = due_utc.replace(tzinfo=UTC).astimezone(tz)
    return f"{when:%a} {when.day} {when:%b %Y}, {when:%H:%M}"


def zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def describe(due_utc: datetime, tz: tzinfo) -> str:
    """A stored (UTC) due date in the cohort's zone, in words, with UTC beside it when the
    zone is another: "Fri 15 Jan 2027, 17:00 America/Chicago (23:00 UTC)"."""
    text = f"{local(due_utc, tz)} {zone_name(tz)}"
    if zone_name(tz) != "UTC":
        when = due_utc.replace(tzinfo=UTC).astimezone(tz)
        text += (f" ({due_utc:%H:%M} UTC)" if when.date() == due_utc.date()
                 else f" ({due_utc.day} {due_utc:%b}, {due_utc:%H:%M} UTC)")
    return text


def in_the_past(due_utc: datetime, now: datetime | None = None) -> bool:
    return due_utc < (now or datetime.now(UTC).replace(tzinfo=None))
