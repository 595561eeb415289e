#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: public_key_store
short_description: Keep the public keys of a mesh on the controller and hand every host all of them
version_added: 0.1.0
description:
  - The controller side of the key exchange. Each run records the public keys that the hosts of
    the play reported (from M(ffmesh.gateway.keypair)) in a YAML file per mesh, C(STORE/MESH.yml),
    and returns the keys of all members of the mesh.
  - Members outside the play, for example because of C(--limit), keep the key on record, so a
    limited run never drops peers. Hosts that are no longer members are removed from the record.
  - A member whose key was never recorded is an error that names the host; nothing is written.
  - Only public keys pass through this action; it runs on the controller and needs no connection.
    Run it with C(run_once) so that every host of the play gets the same result.
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  action:
    support: full
    description: Runs on the controller.
  check_mode:
    support: full
    description: The record is not written. Hosts whose key M(ffmesh.gateway.keypair) would
      only create are reported in RV(pending).
  diff_mode:
    support: full
    description: The diff shows the record file before and after.
  idempotent:
    support: full
    description: The record is only written when a key was added, changed or removed.
options:
  store:
    description: Directory on the controller for the records, for example C({{ inventory_dir }}/public_keys).
    type: path
    required: true
  mesh:
    description: Name of the mesh; the record is C(STORE/MESH.yml).
    type: str
    required: true
  key_type:
    description: Type of the keys, to check their format.
    type: str
    required: true
    choices: [fastd, wireguard, tinc]
  keys:
    description: Host name to public key, for the hosts of this run.
    type: dict
    required: true
  members:
    description: All hosts of the mesh in the inventory, for example C(groups['gateways']).
    type: list
    elements: str
    required: true
seealso:
  - module: ffmesh.gateway.keypair
  - module: ffmesh.gateway.peer_files
"""

EXAMPLES = r"""
- name: Make the tinc key
  ffmesh.gateway.keypair:
    type: tinc
    path: /freifunk/tinc/rsa_key.priv
  register: tinc_key

- name: Record the tinc keys and learn everybody's
  ffmesh.gateway.public_key_store:
    store: "{{ inventory_dir }}/public_keys"
    mesh: tinc
    key_type: tinc
    keys: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, ['tinc_key', 'public_key']))) }}"
    members: "{{ groups['gateways'] }}"
  run_once: true
  register: tinc_keys
"""

RETURN = r"""
peers:
  description: Host name to public key for every member of the mesh.
  returned: success
  type: dict
  sample: {gw1: "4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc"}
record:
  description: Path of the record file on the controller.
  returned: success
  type: str
  sample: /srv/inventory/public_keys/fastd.yml
added:
  description: Hosts whose key was recorded for the first time.
  returned: success
  type: list
  elements: str
removed:
  description: Hosts removed from the record because they left the mesh.
  returned: success
  type: list
  elements: str
pending:
  description: In check mode, hosts whose key does not exist yet; they keep a recorded key or are left out of RV(peers).
  returned: success
  type: list
  elements: str
updated:
  description: Hosts whose recorded key changed (a new key pair).
  returned: success
  type: list
  elements: str
"""
