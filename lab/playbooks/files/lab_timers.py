# Prints, as JSON, when each of the given timers runs (its OnCalendar) and when it runs next, for
# the timers that are loaded and active.
from __future__ import annotations

import json
import re
import subprocess
import sys

shown = subprocess.run(["systemctl", "show", "--property=Id,ActiveState,TimersCalendar,NextElapseUSecRealtime", *sys.argv[1:]],
                       capture_output=True, text=True, check=True).stdout
timers = {}
for block in shown.strip().split("\n\n"):
    fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
    calendar = re.search(r"OnCalendar=(.*?) ;", fields.get("TimersCalendar", ""))
    if fields.get("ActiveState") == "active" and calendar:
        timers[fields["Id"].removesuffix(".timer")] = {"on_calendar": calendar.group(1), "next": fields.get("NextElapseUSecRealtime", "")}
print(json.dumps(timers))
