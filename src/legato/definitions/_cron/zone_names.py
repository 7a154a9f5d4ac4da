"""Time zone names: an IANA zone, or a ``Problem`` that names the zone the user meant.

Abbreviations (``EST``, ``CET``) are refused: they name an offset, not the rules that change it,
so a schedule or a partition space read in one would drift by an hour twice a year.
"""

from __future__ import annotations

import difflib
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from legato.definitions._cron.problem import Problem

_ABBREVIATIONS = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "EST5EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "CST6CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "MST7MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "PST8PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "BRT": "America/Sao_Paulo",
    "BST": "Europe/London",
    "GB": "Europe/London",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "MET": "Europe/Paris",
    "MEST": "Europe/Paris",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "ROK": "Asia/Seoul",
    "PRC": "Asia/Shanghai",
    "ROC": "Asia/Taipei",
    "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "ACST": "Australia/Adelaide",
    "AWST": "Australia/Perth",
    "NZ": "Pacific/Auckland",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    "SAST": "Africa/Johannesburg",
}
_FIXED_OK = {"UTC", "GMT", "UCT"}
_ABBREVIATION_SHAPE = re.compile(r"[A-Z]{2,5}|[A-Z]{3,4}\d{1,2}[A-Z]{3,4}")  # EST, EST5EDT


def load_zone(name: object) -> ZoneInfo:
    """The IANA zone ``name`` (a ``ZoneInfo`` is taken by its key); raise Problem for
    abbreviations and unknown names."""
    if isinstance(name, ZoneInfo):
        name = name.key
    if not isinstance(name, str) or not name:
        raise Problem(
            f"time zone must be an IANA name such as 'Europe/London', got {name!r}",
            "pass timezone='Region/City', e.g. timezone='America/New_York'",
        )
    if name.upper() not in _FIXED_OK and (
        name.upper() in _ABBREVIATIONS or _ABBREVIATION_SHAPE.fullmatch(name)
    ):
        suggestion = _ABBREVIATIONS.get(name.upper())
        example = repr(suggestion) if suggestion else "'America/New_York' or 'Europe/Paris'"
        raise Problem(
            f"time zone {name!r} is an abbreviation, not an IANA zone name with DST rules",
            f"use a Region/City name such as {example}, or 'UTC' for no DST",
            suggestion,
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        match = _closest_zone(name)
        fix = (
            f"did you mean {match!r}?"
            if match
            else "use an IANA name such as 'Europe/London' (see zoneinfo.available_timezones())"
        )
        raise Problem(f"time zone {name!r} is not a known IANA zone", fix, match) from None


def _closest_zone(name: str) -> str | None:
    zones = available_timezones()
    folded = {zone.lower(): zone for zone in zones}
    exact = folded.get(name.strip().replace(" ", "_").lower())
    if exact:
        return exact
    close = difflib.get_close_matches(name, sorted(zones), n=1, cutoff=0.6)
    return close[0] if close else None
