#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: peer_files
short_description: Write one file per mesh peer (tinc host files, fastd peer files) into a directory
version_added: 0.1.0
description:
  - Renders the files a VPN daemon reads its peers from, one per peer, from public keys and
    addresses, and writes those that differ.
  - With O(exclusive=true) (the default) files of peers that are no longer listed are removed,
    so a host that left the inventory loses access. Only files this module wrote (they start
    with its header line) are ever removed; anything else in the directory is left alone.
  - Takes public keys only; feed it RV(ffmesh.gateway.public_key_store#module:peers).
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  check_mode:
    support: full
    description: Reports the files it would write or remove.
  diff_mode:
    support: full
    description: One diff per peer file.
  idempotent:
    support: full
    description: Only files whose content differs are written.
options:
  path:
    description: The peer directory, for example C(/freifunk/tinc/hosts). It is created (mode 0755) if missing.
    type: path
    required: true
  format:
    description:
      - C(tinc) writes tinc 1.0 host files (C(Address), C(Port), RSA public key); peer names must be
        valid tinc node names (letters, digits, C(_)).
      - C(fastd) writes fastd peer files (C(key), C(remote)).
    type: str
    required: true
    choices: [tinc, fastd]
  public_keys:
    description:
      - Peer name to public key, as RV(ffmesh.gateway.public_key_store#module:peers) returns it.
        Every listed peer gets a file, the host itself included (tinc needs its own host file).
    type: dict
    required: true
  addresses:
    description:
      - Peer name to the address the peer is reached at, or a list of them; IP addresses or
        host names. Peers without an address only accept connections.
    type: dict
    default: {}
  port:
    description: Port the peers listen on. Defaults to 655 for tinc; fastd needs it with O(addresses).
    type: int
  exclusive:
    description: Remove the files this module wrote in O(path) for peers that are no longer listed.
    type: bool
    default: true
seealso:
  - module: ffmesh.gateway.public_key_store
  - module: ffmesh.gateway.keypair
"""

EXAMPLES = r"""
- name: Give every gateway the tinc host files of all gateways
  ffmesh.gateway.peer_files:
    path: /freifunk/tinc/hosts
    format: tinc
    public_keys: "{{ tinc_keys.peers }}"
    addresses: "{{ dict(groups['gateways'] | zip(groups['gateways'] | map('extract', hostvars, 'tinc_address'))) }}"

- name: fastd peers of the gateway mesh
  ffmesh.gateway.peer_files:
    path: /freifunk/fastd/gateways
    format: fastd
    public_keys:
      gw1: 4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc
    addresses:
      gw1: 2001:db8::1
    port: 10000
"""

RETURN = r"""
written:
  description: Names of the peer files that were created or changed.
  returned: always
  type: list
  elements: str
  sample: [gw2]
removed:
  description: Names of the files that were removed.
  returned: always
  type: list
  elements: str
  sample: [gw9]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ffmesh.gateway.plugins.module_utils import _files, _peers

FILE_MODE = 0o644


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "format": {"type": "str", "required": True, "choices": list(_peers.PEER_FORMATS)},
            "public_keys": {"type": "dict", "required": True},
            "addresses": {"type": "dict", "default": {}},
            "port": {"type": "int"},
            "exclusive": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    directory = module.params["path"]
    try:
        table = _peers.peer_table(module.params["public_keys"], module.params["addresses"], module.params["port"])
        wanted = _peers.render(module.params["format"], table)
    except (_peers.PeerError, ValueError) as exc:
        module.fail_json(msg=str(exc))

    ours = {}
    for name in sorted(os.listdir(directory) if os.path.isdir(directory) else []):
        path = os.path.join(directory, name)
        content = _files.read_text(path) if os.path.isfile(path) and not os.path.islink(path) else None
        if content is not None and content.startswith(_peers.HEADER):
            ours[name] = content
    before, after, written = {}, {}, []
    for name, content in wanted.items():
        current = ours.get(name, _files.read_text(os.path.join(directory, name)))
        if current != content:
            written.append(name)
            before[name], after[name] = current or "", content
    removed = [name for name in ours if name not in wanted] if module.params["exclusive"] else []
    for name in removed:
        before[name], after[name] = ours[name], ""

    changed = bool(written or removed or not os.path.isdir(directory))
    if changed and not module.check_mode:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        for name in written:
            _files.write_atomic(os.path.join(directory, name), wanted[name], FILE_MODE)
        for name in removed:
            os.unlink(os.path.join(directory, name))
    result = {"changed": changed, "written": written, "removed": removed}
    if module._diff:
        result["diff"] = [
            {"before_header": os.path.join(directory, name), "after_header": os.path.join(directory, name),
             "before": before[name], "after": after[name]}
            for name in sorted(before)
        ]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
