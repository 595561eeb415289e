# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""batman-adv's gateway bandwidth, written as ``batctl gw_mode server`` takes it.

batctl reads DOWN or DOWN/UP; each is a whole number with an optional unit ``kbit`` or ``mbit``
(any case; kbit without one). Without UP, batman-adv announces DOWN/5. batman-adv counts in
steps of 100 kbit/s in an unsigned 32-bit field. systemd-networkd's GatewayBandwidthDown= and
GatewayBandwidthUp= take bits per second with the suffixes K and M (base 1000).
"""

from __future__ import annotations

import re
import typing as t

_THROUGHPUT = re.compile(r"^([0-9]+)(kbit|mbit)?$", re.IGNORECASE)
# batman-adv's field holds units of 100 kbit/s.
_MAX_KBIT = (2**32 - 1) * 100
EXAMPLES = "100mbit/100mbit, 50mbit/10mbit, or 10000 (10000 kbit down, a fifth of it up)"


class BandwidthError(ValueError):
    """A bandwidth that batctl would not take."""


def _kbit(text: str, whole: str) -> int:
    match = _THROUGHPUT.match(text)
    if not match:
        raise BandwidthError(
            f"{whole!r} is not a batman-adv gateway bandwidth: DOWN or DOWN/UP, each a whole number "
            f"with the unit kbit or mbit (kbit when none is given), for example {EXAMPLES}"
        )
    kbit = int(match.group(1)) * (1000 if (match.group(2) or "").lower() == "mbit" else 1)
    if kbit > _MAX_KBIT:
        raise BandwidthError(f"{whole!r}: {text} is more than batman-adv can announce ({_MAX_KBIT} kbit)")
    return kbit


def gateway_bandwidth(text: t.Any) -> t.Dict[str, int]:
    """``{'down_kbit': ..., 'up_kbit': ...}`` of a bandwidth as batctl takes it."""
    if not isinstance(text, str):
        raise BandwidthError(f"{text!r} is not a batman-adv gateway bandwidth: expected a string such as {EXAMPLES}")
    parts = text.strip().split("/")
    if len(parts) > 2:
        raise BandwidthError(f"{text!r} has more than one '/': DOWN or DOWN/UP, for example {EXAMPLES}")
    down = _kbit(parts[0], text)
    up = _kbit(parts[1], text) if len(parts) == 2 else down // 5
    return {"down_kbit": down, "up_kbit": up}
