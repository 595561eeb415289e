# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Staggered job times: no two gateways run the same job in the same slot.

Seed 001 (Freifunk Mainz/Wiesbaden) asks for a scheme that derives a unique weekday, hour and
minute from the gateway number, so that a bad update never breaks all gateways at once, and
that with few gateways every weekday still has one gateway running the weekly update.

A window of ``window_hours`` starting at ``start_hour`` is cut into slots of ``spacing``
minutes. Weekly jobs spread gateways over the weekdays first (number mod 7), then over the
slots of the window; daily jobs use the slots of the window; hourly jobs the minutes of the hour.

Checks that run every few seconds (:func:`repeating`) spread the gateways evenly over the
interval, so their pings and their reactions to a failed uplink never start together.
"""

from __future__ import annotations

import typing as t

PERIODS = ("hourly", "daily", "weekly")
WEEKDAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # cron numbering: 0 = Sunday


class ScheduleError(ValueError):
    """A gateway number or window that cannot give a unique slot."""


def capacity(period: str, window_hours: int = 1, spacing: int = 15) -> int:
    """How many gateways get distinct slots."""
    if period not in PERIODS:
        raise ScheduleError(f"period {period!r} must be one of {', '.join(PERIODS)}")
    if not 1 <= spacing <= 60 or 60 % spacing:
        raise ScheduleError(f"spacing {spacing} must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")
    if not 1 <= window_hours <= 24:
        raise ScheduleError(f"window_hours {window_hours} must be 1 to 24")
    if period == "hourly":
        return 60 // spacing
    slots = window_hours * 60 // spacing
    return slots * 7 if period == "weekly" else slots


def slot(
    number: int,
    period: str = "weekly",
    start_hour: int = 3,
    window_hours: int = 1,
    spacing: int = 15,
    gateways: t.Union[int, t.Sequence[int], None] = None,
) -> t.Dict[str, t.Any]:
    """The slot of gateway ``number`` (0-based).

    With ``gateways`` (the number of gateways, at most 7) a weekly job runs on every weekday
    that is ``number`` modulo ``gateways``, so each weekday has exactly one gateway updating.
    ``gateways`` may also be the gateways' own numbers (group indices, gaps allowed): ``number``
    then takes its place among them, so the slots stay packed from the window's start.
    """
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ScheduleError(f"gateway number {number!r} must be a non-negative integer")
    if gateways is not None and not isinstance(gateways, int):
        number, gateways = rank_among(number, gateways)
    if not 0 <= start_hour <= 23:
        raise ScheduleError(f"start_hour {start_hour} must be 0 to 23")
    room = capacity(period, window_hours, spacing)
    if number >= room:
        raise ScheduleError(
            f"gateway number {number} has no slot of its own: a {period} window of {window_hours} h "
            f"in steps of {spacing} min holds {room} gateways; widen window_hours or shorten spacing"
        )
    if gateways is not None and not number < gateways:
        raise ScheduleError(f"gateway number {number} is not below the number of gateways {gateways}")

    weekdays: t.List[int] = list(range(7))
    if period == "weekly":
        step = number // 7
        if gateways is not None and gateways <= 7:
            weekdays, step = [day for day in range(7) if day % gateways == number], 0
        else:
            weekdays = [number % 7]
    else:
        step = number
    minutes = step * spacing
    minute = minutes % 60
    hour = None
    if period != "hourly":
        since_midnight = start_hour * 60 + minutes
        hour = since_midnight // 60 % 24
        # A window that runs past midnight continues on the next weekday.
        weekdays = sorted((day + since_midnight // 1440) % 7 for day in weekdays) if period == "weekly" else weekdays

    cron_hour = "*" if hour is None else str(hour)
    cron_days = "*" if period != "weekly" else ",".join(str(day) for day in weekdays)
    calendar_days = "" if period != "weekly" else ",".join(WEEKDAY_NAMES[day] for day in weekdays) + " "
    calendar_hour = "*" if hour is None else f"{hour:02d}"
    return {
        "weekdays": weekdays,
        "hour": hour,
        "minute": minute,
        "cron": f"{minute} {cron_hour} * * {cron_days}",
        "on_calendar": f"{calendar_days}*-*-* {calendar_hour}:{minute:02d}:00",
    }


def rank_among(number: int, numbers: t.Iterable[int]) -> t.Tuple[int, int]:
    """Gateway ``number``'s place among the gateways' ``numbers`` (group indices, gaps allowed, its
    own added if missing), and how many gateways that makes."""
    ranked = sorted({number, *numbers})
    return ranked.index(number), len(ranked)


def repeating(number: int, seconds: int, gateways: t.Union[int, t.Sequence[int]]) -> t.Dict[str, t.Any]:
    """When gateway ``number`` of ``gateways`` runs a job every ``seconds``.

    ``seconds`` divides a minute, or is a whole number of minutes that divides an hour (the key
    repository's sync every 900 s). ``gateways`` is their number (gateways are numbered 0 to
    n-1), or the gateways' own numbers (group indices, which may have gaps): then ``number``
    takes its place among them, its own added if it is missing. ``second`` is the gateway's
    offset into the interval, in seconds.
    """
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise ScheduleError(f"gateway number {number!r} must be a non-negative integer")
    in_a_minute = 1 <= seconds <= 60 and not 60 % seconds
    in_an_hour = seconds > 60 and not seconds % 60 and not 3600 % seconds
    if not (in_a_minute or in_an_hour):
        raise ScheduleError(
            f"interval {seconds} s must divide a minute (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60) "
            "or be whole minutes that divide an hour (120, 180, 240, 300, 360, 600, 720, 900, 1200, 1800, 3600)"
        )
    if not isinstance(gateways, int):
        number, gateways = rank_among(number, gateways)
    if not number < gateways:
        raise ScheduleError(f"gateway number {number} is not below the number of gateways {gateways}")
    second = number * seconds // gateways
    if seconds <= 60:
        repeat = "" if seconds == 60 else f"/{seconds}"
        on_calendar = f"*-*-* *:*:{second:02d}{repeat}"
    else:
        repeat = "" if seconds == 3600 else f"/{seconds // 60}"
        on_calendar = f"*-*-* *:{second // 60:02d}{repeat}:{second % 60:02d}"
    return {"second": second, "seconds": seconds, "on_calendar": on_calendar}
