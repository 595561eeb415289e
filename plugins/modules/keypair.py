#!/usr/bin/python
# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair
short_description: Generate and keep a fastd, WireGuard or tinc key pair on the managed host
version_added: 0.1.0
description:
  - Creates the private key file of a mesh VPN daemon on the managed host if it does not exist
    and returns the public key. An existing valid key is kept, so a second run reports no change.
  - The private key never leaves the host and never appears in the module's output. The file is
    written with mode C(0600) (C(0640) with O(group)) from its first byte and moved into place atomically.
  - WireGuard keys are X25519 keys of the Python library cryptography, tinc keys RSA keys of the
    same library. fastd's public key is derived in pure Python, since no maintained library
    produces fastd's format. They equal what C(fastd --show-key) and C(wg pubkey) derive from the
    same secret.
author:
  - ffmesh.gateway maintainers (@ffmesh)
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written; a missing key is reported as a change and
      RV(public_key) is then null.
  diff_mode:
    support: full
    description: The diff shows the public key before and after, never the private key.
  idempotent:
    support: full
    description: An existing valid key is kept.
options:
  type:
    description:
      - C(fastd) writes C(secret "<hex>";), a file fastd can C(include). A bare hex secret is read too.
      - C(wireguard) writes the base64 private key, as C(wg genkey) does.
      - C(tinc) writes a PKCS#1 PEM RSA private key for tinc 1.0; RV(public_key) is the PKCS#1 PEM
        public key that belongs into the host file of every peer.
    type: str
    required: true
    choices: [fastd, wireguard, tinc]
  path:
    description: The private key file. Its directory must exist (in check mode it may be missing).
    type: path
    required: true
  size:
    description: RSA key size in bits; only for O(type=tinc).
    type: int
    default: 2048
  adopt:
    description:
      - Key files of an earlier installation to take the key from while O(path) does not exist,
        in the order given, for example seed 000's C(/freifunk/fastd/fastd.secret) (a bare hex
        fastd secret). The first that exists is written to O(path) in this module's format; the
        public key stays the same, so peers that pinned it keep working. The files are left in place.
      - A file that exists but holds no valid key is an error, not a reason to make a new key.
    type: list
    elements: path
    default: []
  group:
    description:
      - A group that may read the private key - the file is then owned by it with mode C(0640)
        instead of C(0600). For a daemon that reads the key as its own user, such as
        systemd-networkd (C(systemd-network)) with a WireGuard C(PrivateKeyFile=).
    type: str
  force:
    description:
      - Replace the key even if a valid one exists (key rotation). Every peer needs the new
        public key afterwards, so run the key exchange in the same play.
      - Without O(force), a file that exists but holds no valid key is an error and stays untouched.
    type: bool
    default: false
requirements:
  - cryptography on the managed host (Debian package C(python3-cryptography)) for O(type=wireguard)
    and O(type=tinc); O(type=fastd) needs no library
seealso:
  - module: ffmesh.gateway.public_key_store
  - module: ffmesh.gateway.peer_files
"""

EXAMPLES = r"""
- name: Make the gateway's fastd key
  ffmesh.gateway.keypair:
    type: fastd
    path: /freifunk/fastd/secret.conf
  register: fastd_key

- name: Keep the fastd key of a seed 000 gateway, or make one
  ffmesh.gateway.keypair:
    type: fastd
    path: /freifunk/fastd/secret.conf
    adopt: [/freifunk/fastd/fastd.secret]

- name: Make the tinc RSA key pair
  ffmesh.gateway.keypair:
    type: tinc
    path: /freifunk/tinc/rsa_key.priv
  register: tinc_key

- name: Show the WireGuard public key
  ffmesh.gateway.keypair:
    type: wireguard
    path: /etc/wireguard/wg0.key
  register: wg_key
- ansible.builtin.debug:
    msg: "{{ wg_key.public_key }}"
"""

RETURN = r"""
public_key:
  description: The public key; hex for fastd, base64 for WireGuard, PKCS#1 PEM for tinc.
    Null in check mode when the key does not exist yet.
  returned: always
  type: str
  sample: 4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc
adopted_from:
  description: The file of O(adopt) whose key was taken; null if none was.
  returned: always
  type: str
  sample: /freifunk/fastd/fastd.secret
path:
  description: The private key file.
  returned: always
  type: str
  sample: /freifunk/fastd/secret.conf
"""

import os
import stat
import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.ffmesh.gateway.plugins.module_utils import _files, _keys

PRIVATE_MODE = 0o600
GROUP_MODE = 0o640


def _adopt(module: AnsibleModule, key_type: str) -> t.Optional[t.Tuple[str, str]]:
    """(file, private key in this module's format) of the first existing file of adopt, or None."""
    for candidate in module.params["adopt"]:
        text = _files.read_text(candidate)
        if text is None:
            continue
        try:
            return candidate, _keys.private_file(key_type, text)
        except _keys.KeyFormatError as exc:
            module.fail_json(
                msg=f"{candidate} exists but is not a {key_type} private key ({exc}); a new key would cut off "
                "every peer that pinned the old one: repair or remove the file",
                path=module.params["path"],
            )
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "type": {"type": "str", "required": True, "choices": list(_keys.KEY_TYPES)},
            "path": {"type": "path", "required": True},
            "size": {"type": "int", "default": _keys.TINC_KEY_SIZE},
            "adopt": {"type": "list", "elements": "path", "default": []},
            "group": {"type": "str"},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    key_type, path = module.params["type"], module.params["path"]
    group = module.params["group"]
    mode = GROUP_MODE if group else PRIVATE_MODE
    if key_type in ("wireguard", "tinc") and not _keys.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    if key_type == "tinc" and module.params["size"] < 2048:
        module.fail_json(msg=f"size={module.params['size']}: tinc keys need at least 2048 bits")
    if os.path.isdir(path):
        module.fail_json(msg=f"{path} is a directory; path is the private key file", path=path)
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))) and not module.check_mode:
        module.fail_json(msg=f"the directory of {path} does not exist; create it first", path=path)

    existing = _files.read_text(path)
    old_public = None
    if existing is not None:
        try:
            old_public = _keys.public_key(key_type, existing)
        except _keys.KeyFormatError as exc:
            if not module.params["force"]:
                module.fail_json(
                    msg=f"{path} exists but is not a {key_type} private key ({exc}); "
                    "move it away or set force=true to replace it",
                    path=path,
                )

    result = {"changed": False, "path": path, "public_key": old_public, "adopted_from": None}
    adopted = None
    if existing is None and not module.params["force"]:
        adopted = _adopt(module, key_type)
    if adopted is not None:
        result["changed"] = True
        result["adopted_from"], private = adopted
        result["public_key"] = _keys.public_key(key_type, private)
        if not module.check_mode:
            _files.write_atomic(path, private, mode)
    elif old_public is None or module.params["force"]:
        result["changed"] = True
        result["public_key"] = None
        if not module.check_mode:
            private, result["public_key"] = _keys.generate(key_type, module.params["size"])
            _files.write_atomic(path, private, mode)
    elif stat.S_IMODE(os.stat(path).st_mode) != mode:
        result["changed"] = True
        if not module.check_mode:
            os.chmod(path, mode)
    if group and os.path.exists(path):
        result["changed"] = module.set_group_if_different(path, group, result["changed"])
    if module._diff:
        result["diff"] = {
            "before": f"public_key: {old_public}\n",
            "after": f"public_key: {result['public_key'] or '(new key)'}\n",
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
