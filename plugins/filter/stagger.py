# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: stagger
short_description: A job time of its own for every gateway
version_added: 0.1.0
description:
  - Derives weekday, hour and minute of a recurring job from the gateway's number, so that no
    two gateways run the same job in the same slot and a bad update never hits all gateways at
    once (Freifunk Mainz/Wiesbaden's rule, seed 001).
  - A window of O(window_hours) hours from O(start_hour) is cut into slots of O(spacing)
    minutes. Weekly jobs take a weekday first (number mod 7), then a slot; daily jobs a slot;
    hourly jobs a minute. A number beyond the window's capacity is an error.
  - C(interval) jobs run every O(seconds) seconds; the O(gateways) gateways are spread evenly over
    the interval (gateway 1 of 2 every 10 s runs at second 5, 15, 25...).
  - With O(gateways) (at most 7) a weekly job runs on every weekday that equals the number
    modulo O(gateways), so every weekday has exactly one gateway running it.
positional: period
options:
  _input:
    description: The gateway's number, 0 or more (for example its group index).
    type: int
    required: true
  period:
    description: How often the job runs.
    type: str
    choices: [interval, hourly, daily, weekly]
    default: weekly
  start_hour:
    description: First hour of the window.
    type: int
    default: 3
  window_hours:
    description: Length of the window in hours.
    type: int
    default: 1
  spacing:
    description: Minutes between two gateways' slots; must divide 60.
    type: int
    default: 15
  gateways:
    description:
      - Number of gateways, for weekly jobs that should run on every weekday somewhere.
      - Required for C(interval) jobs.
      - It may also be the list of the gateways' numbers, their C(freifunk_group_index) (gaps
        allowed); the gateway takes its place among them, so slots stay packed from the start.
    type: raw
  seconds:
    description:
      - The interval of an C(interval) job. It divides a minute, or is whole minutes that divide an
        hour (900 - every 15 minutes, each gateway at its own minute and second of them).
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Weekly tinc update, every weekday on one gateway
  ansible.builtin.cron:
    name: update tinc conf
    job: /usr/local/bin/update-tinc
    weekday: "{{ update_slot.weekdays | join(',') }}"
    hour: "{{ update_slot.hour }}"
    minute: "{{ update_slot.minute }}"
  vars:
    # The position in the group numbers the gateways 0..n-1 without gaps.
    update_slot: "{{ groups['gateways'].index(inventory_hostname) | ffmesh.gateway.stagger('weekly', gateways=groups['gateways'] | length) }}"

- name: Daily snapshot as a systemd timer
  ansible.builtin.debug:
    msg: "OnCalendar={{ (freifunk_group_index | ffmesh.gateway.stagger('daily', start_hour=5)).on_calendar }}"
  # index 2: OnCalendar=*-*-* 05:30:00

- name: A health check every 10 seconds, gateway 1 of 2 at second 5, 15, 25...
  ansible.builtin.debug:
    msg: "OnCalendar={{ (1 | ffmesh.gateway.stagger('interval', seconds=10, gateways=2)).on_calendar }}"
  # OnCalendar=*-*-* *:*:05/10
"""

RETURN = r"""
_value:
  description:
    - C(weekdays) (list, 0 = Sunday as in cron), C(hour) (null for hourly jobs), C(minute),
      C(cron) (the five time fields of a crontab line) and C(on_calendar) (systemd.time).
    - For C(interval) jobs C(second) (the gateway's offset into the interval, in seconds), C(seconds) and C(on_calendar).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _schedule


def stagger(number, period="weekly", start_hour=3, window_hours=1, spacing=15, gateways=None, seconds=60):
    if isinstance(number, bool):
        raise AnsibleFilterError(f"stagger: gateway number {number!r} must be a non-negative integer")
    try:
        if period == "interval":
            if gateways is None:
                raise _schedule.ScheduleError("an interval job needs the number of gateways")
            numbers = int(gateways) if isinstance(gateways, (int, str)) else [int(gateway) for gateway in gateways]
            return _schedule.repeating(int(number), int(seconds), numbers)
        numbers = None if gateways is None else int(gateways) if isinstance(gateways, (int, str)) else [int(gateway) for gateway in gateways]
        return _schedule.slot(int(number), period, int(start_hour), int(window_hours), int(spacing), numbers)
    except (_schedule.ScheduleError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"stagger: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"stagger": stagger}
