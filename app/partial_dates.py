"""Dates known only to the year, the month or the day, as one value type.

A partial date is the interval of days it may denote: "2019" is 2019-01-01..2019-12-31,
"2019-07" is 2019-07-01..2019-07-31 and "2019-07-15" is that single day. Storing both ends
makes sorting (by the earliest day) and overlap filters plain column comparisons.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Precision = Literal["year", "month", "day"]

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    earliest: date
    latest: date

    @classmethod
    def parse(cls, text: str) -> "PartialDate":
        """Parse "YYYY", "YYYY-MM" or "YYYY-MM-DD"; raise ValueError on anything else."""
        match = _PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        year = int(match["year"])
        if match["month"] is None:
            return cls(date(year, 1, 1), date(year, 12, 31))
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: month must be 01-12")
        if match["day"] is None:
            return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
        day = date(year, month, int(match["day"]))  # raises ValueError for 2019-02-30
        return cls(day, day)

    @classmethod
    def from_columns(cls, earliest: date | None, latest: date | None) -> "PartialDate | None":
        if earliest is None or latest is None:
            return None
        return cls(earliest, latest)

    @property
    def precision(self) -> Precision:
        if self.earliest == self.latest:
            return "day"
        if self.earliest.month == self.latest.month and self.earliest.year == self.latest.year:
            return "month"
        return "year"

    def __str__(self) -> str:
        if self.precision == "day":
            return self.earliest.isoformat()
        if self.precision == "month":
            return self.earliest.strftime("%Y-%m")
        return f"{self.earliest.year:04d}"
