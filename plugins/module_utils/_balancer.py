# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spread new fastd client flows over N local fastd instances.

Seed 000 balanced with iptables ``-m statistic --mode nth``. Rules in the nat table only see the
first packet of a flow; conntrack then keeps the flow's redirection, so every later packet of a
client (same address and port) reaches the same instance. Instance i listens on
``first_instance_port + i``; a flow is redirected there on the address it arrived at, and
conntrack rewrites the replies back to the public port.

Round robin: rule i matches every (N - i)-th packet of what the rules before it left over, so
each rule takes exactly 1/N of new flows and the last rule takes the rest unconditionally. The
nftables backend expresses the same with one ``numgen inc mod N`` map.

The planners here are pure: they compare what the kernel reports with what is wanted and return
the commands that would make them equal (an empty list: nothing to do).

Rules set at run time are gone after a reboot. ``restore_script`` gives a shell script that
a boot unit runs before the daemons: it makes the balancer from an empty packet filter, and
changes nothing where the balancer is in place.
"""

from __future__ import annotations

import re
import shlex
import typing as t

BACKENDS = ("iptables", "nftables")
FAMILIES = ("ipv4", "ipv6")
IPTABLES_BINARY = {"ipv4": "iptables", "ipv6": "ip6tables"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,27}$")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")

Command = t.Tuple[t.List[str], t.Optional[str]]  # argv and standard input


class BalancerError(ValueError):
    """Options that cannot give a balancer."""


class BalancerSpec:
    """What is wanted: validated options."""

    def __init__(
        self,
        port: int,
        instances: int,
        first_instance_port: t.Optional[int] = None,
        name: str = "ffmesh_fastd",
        in_interface: t.Optional[str] = None,
        families: t.Sequence[str] = FAMILIES,
    ) -> None:
        if not 1 <= port <= 65535:
            raise BalancerError(f"port={port} is not a UDP port (1-65535)")
        if instances < 1:
            raise BalancerError(f"instances={instances}: at least one fastd instance is needed")
        first = port + 1 if first_instance_port is None else first_instance_port
        origin = f"first_instance_port={first}" if first_instance_port is not None else f"the default first_instance_port (port+1={first})"
        if first < 1:
            raise BalancerError(f"{origin} is not a UDP port (1-65535)")
        if first + instances - 1 > 65535:
            raise BalancerError(f"{origin} with instances={instances} gives ports beyond 65535")
        if not _NAME.match(name):
            raise BalancerError(f"name={name!r} must be lower case letters, digits and _ (at most 28, starting with a letter)")
        if in_interface is not None and not _INTERFACE.match(in_interface):
            raise BalancerError(f"in_interface={in_interface!r} is not an interface name")
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown or not families:
            raise BalancerError(f"families={list(families)!r}: choose from {list(FAMILIES)}")
        self.port = port
        self.instance_ports = [first + i for i in range(instances)]
        self.name = name
        self.in_interface = in_interface
        self.families = [family for family in FAMILIES if family in families]

    @property
    def chain(self) -> str:
        return self.name.upper()


def iptables_chain_rules(spec: BalancerSpec) -> t.List[str]:
    """The balancing chain as ``iptables -S CHAIN`` prints it."""
    lines = [f"-N {spec.chain}"]
    count = len(spec.instance_ports)
    for position, port in enumerate(spec.instance_ports):
        remaining = count - position
        nth = f"-m statistic --mode nth --every {remaining} --packet 0 " if remaining > 1 else ""
        lines.append(f"-A {spec.chain} -p udp {nth}-j REDIRECT --to-ports {port}")
    return lines


def iptables_jump_rule(spec: BalancerSpec) -> str:
    """The PREROUTING rule that sends the public port into the chain, as ``iptables -S`` prints it."""
    interface = f"-i {spec.in_interface} " if spec.in_interface else ""
    return f"-A PREROUTING {interface}-p udp -m udp --dport {spec.port} -j {spec.chain}"


def _jumps_to(chain: str, prerouting: t.Sequence[str]) -> t.List[str]:
    return [line for line in prerouting if line.startswith("-A PREROUTING ") and line.split()[-2:] == ["-j", chain]]


def _delete(binary: str, rule: str) -> Command:
    return [binary, "-t", "nat", "-D"] + shlex.split(rule)[1:], None


def plan_iptables(
    spec: BalancerSpec,
    family: str,
    present: bool,
    chain_rules: t.Optional[t.Sequence[str]],
    prerouting: t.Sequence[str],
) -> t.List[Command]:
    """Commands that bring one family's nat table to the wanted state.

    ``chain_rules`` is what ``iptables -t nat -S CHAIN`` printed (None: no such chain),
    ``prerouting`` what ``iptables -t nat -S PREROUTING`` printed.
    """
    binary = IPTABLES_BINARY[family]
    jumps = _jumps_to(spec.chain, prerouting)
    commands: t.List[Command] = []
    if not present:
        commands += [_delete(binary, rule) for rule in jumps]
        if chain_rules is not None:
            commands += [([binary, "-t", "nat", "-F", spec.chain], None), ([binary, "-t", "nat", "-X", spec.chain], None)]
        return commands
    wanted_chain = iptables_chain_rules(spec)
    if [line.strip() for line in chain_rules or []] != wanted_chain:
        # Declaring the chain in --noflush mode flushes it: the chain is replaced in one commit.
        payload = "\n".join(["*nat", f":{spec.chain} - [0:0]"] + wanted_chain[1:] + ["COMMIT", ""])
        commands.append(([f"{binary}-restore", "--noflush"], payload))
    wanted_jump = iptables_jump_rule(spec)
    kept = False
    for rule in jumps:
        if rule == wanted_jump and not kept:
            kept = True
        else:
            commands.append(_delete(binary, rule))
    if not kept:
        commands.append(([binary, "-t", "nat", "-I", "PREROUTING", "1"] + shlex.split(wanted_jump)[2:], None))
    return commands


def nft_table(spec: BalancerSpec) -> str:
    """The balancer's own table, as ``nft list table inet NAME`` prints it."""
    family = f"meta nfproto {spec.families[0]} " if len(spec.families) == 1 else ""
    interface = f'iifname "{spec.in_interface}" ' if spec.in_interface else ""
    if len(spec.instance_ports) == 1:
        target = f"redirect to :{spec.instance_ports[0]}"
    else:
        mapping = ", ".join(f"{i} : {port}" for i, port in enumerate(spec.instance_ports))
        target = f"redirect to :numgen inc mod {len(spec.instance_ports)} map {{ {mapping} }}"
    return "\n".join(
        [
            f"table inet {spec.name} {{",
            "\tchain prerouting {",
            "\t\ttype nat hook prerouting priority dstnat; policy accept;",
            f"\t\t{interface}{family}udp dport {spec.port} {target}",
            "\t}",
            "}",
        ]
    )


def _normalized(text: t.Optional[str]) -> t.Optional[t.List[str]]:
    if text is None:
        return None
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def plan_nftables(spec: BalancerSpec, present: bool, listed: t.Optional[str]) -> t.List[Command]:
    """Commands for the nftables backend; ``listed`` is ``nft list table inet NAME`` (None: no table)."""
    if not present:
        return [] if listed is None else [(["nft", "-f", "-"], f"delete table inet {spec.name}\n")]
    wanted = nft_table(spec)
    if _normalized(listed) == _normalized(wanted):
        return []
    # Create-then-delete lets the replacement run as one transaction whether or not the table exists.
    script = f"table inet {spec.name}\ndelete table inet {spec.name}\n{wanted}\n"
    return [(["nft", "-f", "-"], script)]


def _shell(argv: t.Sequence[str], data: t.Optional[str]) -> str:
    if data is None:
        return shlex.join(argv)
    return f"{shlex.join(argv)} <<'EOF'\n{data.rstrip()}\nEOF"


def restore_script(spec: BalancerSpec, backend: str) -> str:
    """A shell script that makes the balancer where it is missing and keeps it where it is in place."""
    if backend not in BACKENDS:
        raise BalancerError(f"backend={backend!r}: choose from {list(BACKENDS)}")
    lines = ["#!/bin/sh", "# Written by ffmesh.gateway.fastd_balancer: the balancer, made again at boot.", "set -e"]
    if backend == "nftables":
        # The nft script replaces the table in one transaction, so running it again changes nothing.
        lines += [_shell(argv, data) for argv, data in plan_nftables(spec, True, None)]
        return "\n".join(lines) + "\n"
    for family in spec.families:
        binary = IPTABLES_BINARY[family]
        # Declaring the chain replaces it; the jump rule is added only where it is missing.
        (restore, payload), (insert, dummy) = plan_iptables(spec, family, True, None, [])
        check = [binary, "-t", "nat", "-C"] + shlex.split(iptables_jump_rule(spec))[1:]
        lines += [_shell(restore, payload), f"{shlex.join(check)} 2>/dev/null || {shlex.join(insert)}"]
    return "\n".join(lines) + "\n"
