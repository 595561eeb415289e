#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: fastd_balancer
short_description: Spread fastd client flows over several local fastd instances
version_added: 0.1.0
description:
  - Redirects new UDP flows that arrive on the public fastd port round-robin to O(instances)
    local fastd instances listening on O(first_instance_port), O(first_instance_port)+1, ...
  - Balancing is per flow. The nat table only sees the first packet of a flow; conntrack keeps
    its redirection, so a client router (its address and port) stays on its instance.
  - The C(iptables) backend uses C(-m statistic --mode nth) as Freifunk Hennef did, in a chain
    of its own plus one jump rule in C(PREROUTING). The C(nftables) backend uses a table of its
    own with a C(numgen inc) map. Each backend only touches its own chain or table.
  - Re-running changes nothing and never duplicates rules; fewer instances remove the surplus
    rules; O(state=absent) removes everything the module made.
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  check_mode:
    support: full
    description: Reports the commands it would run without running them.
  diff_mode:
    support: full
    description: The diff shows the managed rules before and after, and the O(restore_file).
  idempotent:
    support: full
    description: Compares the rules the kernel reports with the wanted ones and runs nothing when they agree.
options:
  port:
    description: The public UDP port client routers connect to.
    type: int
    required: true
  instances:
    description: Number of fastd instances. Required with O(state=present).
    type: int
  first_instance_port:
    description: UDP port of instance 0; instance i listens on this port plus i. Defaults to O(port)+1.
    type: int
  backend:
    description: Packet filter to program.
    type: str
    choices: [iptables, nftables]
    default: iptables
  name:
    description:
      - Name of the balancer; the nftables table is called so, the iptables chain is its upper
        case form. Use one name per fastd mesh.
    type: str
    default: ffmesh_fastd
  in_interface:
    description: Only balance flows arriving on this interface (for example the uplink).
    type: str
  families:
    description: IP families to balance.
    type: list
    elements: str
    choices: [ipv4, ipv6]
    default: [ipv4, ipv6]
  state:
    description: C(absent) removes the chain, jump rules or table of O(name), and O(restore_file).
    type: str
    choices: [present, absent]
    default: present
  restore_file:
    description:
      - Also write a shell script here that makes the balancer again after a reboot, when run
        by a unit at boot (the roles use P(ffmesh.gateway.freifunk_node#role)'s
        C(ffmesh-restore@.service)). The script makes the balancer from an empty packet filter
        and changes nothing where it is in place.
      - Its directory must exist. The file is written only when its content differs.
    type: path
notes:
  - When O(instances) shrinks, flows already redirected to a removed instance keep their conntrack
    entry until it expires; clients reconnect after fastd's handshake timeout.
requirements:
  - iptables and ip6tables (iptables-restore), or nft
seealso:
  - module: ffmesh.gateway.keypair
"""

EXAMPLES = r"""
- name: One fastd instance per core behind port 10000
  ffmesh.gateway.fastd_balancer:
    port: 10000
    instances: "{{ ansible_processor_vcpus }}"
    first_instance_port: 10001

- name: The same with nftables, IPv4 only, on the uplink
  ffmesh.gateway.fastd_balancer:
    port: 10000
    instances: 4
    backend: nftables
    families: [ipv4]
    in_interface: eth0

- name: The same, made again at every boot by ffmesh-restore@fastd-balancer.service
  ffmesh.gateway.fastd_balancer:
    port: 10000
    instances: 4
    restore_file: /freifunk/restore/fastd-balancer.sh

- name: Remove the balancer
  ffmesh.gateway.fastd_balancer:
    port: 10000
    state: absent
"""

RETURN = r"""
instance_ports:
  description: The ports flows are redirected to, in round-robin order. Empty with O(state=absent).
  returned: always
  type: list
  elements: int
  sample: [10001, 10002, 10003, 10004]
commands:
  description: The commands that were run (or would be run in check mode).
  returned: always
  type: list
  elements: str
  sample: ["iptables-restore --noflush", "iptables -t nat -I PREROUTING 1 -p udp -m udp --dport 10000 -j FFMESH_FASTD"]
restore_file_changed:
  description: Whether O(restore_file) was (or in check mode would be) written or removed.
  returned: always
  type: bool
  sample: false
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ffmesh.gateway.plugins.module_utils import _balancer, _files


def _listing(module: AnsibleModule, argv: list) -> "str | None":
    rc, out, dummy = module.run_command(argv)
    return out if rc == 0 else None


def _current(module: AnsibleModule, spec: _balancer.BalancerSpec, backend: str, present: bool) -> dict:
    """What the kernel reports now, per family or for the table.

    A family that is not wanted and whose nat table cannot be read (no ip6tables, IPv6 off)
    holds nothing to remove.
    """
    if backend == "nftables":
        module.get_bin_path("nft", required=True)
        return {"table": _listing(module, ["nft", "list", "table", "inet", spec.name])}
    state = {}
    for family in _balancer.FAMILIES:
        wanted = present and family in spec.families
        binary = _balancer.IPTABLES_BINARY[family]
        found = all(module.get_bin_path(tool, required=wanted) for tool in (binary, f"{binary}-restore"))
        prerouting = _listing(module, [binary, "-t", "nat", "-S", "PREROUTING"]) if found else None
        if prerouting is None:
            if wanted:
                module.fail_json(msg=f"{binary} -t nat -S PREROUTING failed; is the nat table usable? "
                                     f"Leave {family} out of families if this host does not balance it.")
            state[family] = (None, [])
            continue
        chain = _listing(module, [binary, "-t", "nat", "-S", spec.chain])
        state[family] = (chain.splitlines() if chain is not None else None, prerouting.splitlines())
    return state


def _describe(current: dict, spec: _balancer.BalancerSpec) -> str:
    if "table" in current:
        return current["table"] or ""
    lines = []
    for family, (chain, prerouting) in current.items():
        jumps = [line for line in prerouting if line.split()[-2:] == ["-j", spec.chain]]
        lines += [f"{family}: {line}" for line in jumps + list(chain or [])]
    return "\n".join(lines) + ("\n" if lines else "")


def _wanted(spec: _balancer.BalancerSpec, backend: str, present: bool) -> dict:
    """The wanted state in the shape _current reports it."""
    if backend == "nftables":
        return {"table": _balancer.nft_table(spec) + "\n" if present else None}
    return {
        family: (_balancer.iptables_chain_rules(spec), [_balancer.iptables_jump_rule(spec)])
        if present and family in spec.families else (None, [])
        for family in _balancer.FAMILIES
    }


def _sync_restore_file(module: AnsibleModule, path: str, wanted: "str | None") -> "tuple[str | None, bool]":
    """Make the file hold ``wanted`` (None: no file); returns what it held and whether that changes."""
    before = _files.read_text(path)
    if before == wanted:
        return before, False
    if not module.check_mode:
        if wanted is None:
            os.remove(path)
        else:
            _files.write_atomic(path, wanted, 0o644)
    return before, True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "required": True},
            "instances": {"type": "int"},
            "first_instance_port": {"type": "int"},
            "backend": {"type": "str", "choices": list(_balancer.BACKENDS), "default": "iptables"},
            "name": {"type": "str", "default": "ffmesh_fastd"},
            "in_interface": {"type": "str"},
            "families": {"type": "list", "elements": "str", "choices": list(_balancer.FAMILIES), "default": list(_balancer.FAMILIES)},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "restore_file": {"type": "path"},
        },
        required_if=[("state", "present", ["instances"])],
        supports_check_mode=True,
    )
    params = module.params
    present = params["state"] == "present"
    try:
        spec = _balancer.BalancerSpec(
            port=params["port"],
            instances=params["instances"] if present else 1,
            # Removal needs no instance ports; port 1 keeps any public port valid.
            first_instance_port=params["first_instance_port"] if present else 1,
            name=params["name"],
            in_interface=params["in_interface"],
            families=params["families"],
        )
    except _balancer.BalancerError as exc:
        module.fail_json(msg=str(exc))

    backend = params["backend"]
    before = _current(module, spec, backend, present)
    if backend == "nftables":
        commands = _balancer.plan_nftables(spec, present, before["table"])
    else:
        commands = []
        for family, (chain, prerouting) in before.items():
            commands += _balancer.plan_iptables(spec, family, present and family in spec.families, chain, prerouting)

    result = {
        "changed": bool(commands),
        "instance_ports": spec.instance_ports if present else [],
        "commands": [shlex.join(argv) for argv, dummy in commands],
        "restore_file_changed": False,
    }
    if commands and not module.check_mode:
        for argv, data in commands:
            rc, out, err = module.run_command(argv, data=data, binary_data=True)
            if rc != 0:
                module.fail_json(msg=f"{shlex.join(argv)} failed: {err.strip() or out.strip()}", rc=rc, **result)
    diffs = [{"before": _describe(before, spec), "after": _describe(_wanted(spec, backend, present), spec)}]
    restore_file = params["restore_file"]
    if restore_file:
        # Written after the rules are in place: a boot never restores rules that failed to apply.
        wanted_script = _balancer.restore_script(spec, backend) if present else None
        before_script, result["restore_file_changed"] = _sync_restore_file(module, restore_file, wanted_script)
        result["changed"] = result["changed"] or result["restore_file_changed"]
        diffs.append({"before": before_script or "", "after": wanted_script or "",
                      "before_header": restore_file, "after_header": restore_file})
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
