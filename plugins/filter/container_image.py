# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: container_image
short_description: The image of a daemon role for the container runtime
version_added: 0.1.0
description:
  - Reads the Containerfile that the collection's role O(_input) ships in C(files/Containerfile)
    and names the image built from it on O(base_image).
  - The tag is a hash of the Containerfile and the base image, so a changed recipe is built
    again and an unchanged one is found and reused.
options:
  _input:
    description: The daemon role, for example C(tinc) or C(fastd).
    type: str
    required: true
  base_image:
    description: The image the Containerfile starts FROM (its C(BASE_IMAGE) build argument).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Name the fastd image
  ansible.builtin.debug:
    msg: "{{ ('fastd' | ffmesh.gateway.container_image('docker.io/library/debian:trixie')).ref }}"
  # localhost/ffmesh-fastd:<12 hex digits>
"""

RETURN = r"""
_value:
  description:
    - C(name), C(tag), C(ref) (name:tag), C(base_image), and C(containerfile) (its text).
  type: dict
"""

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _container

_ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")


def container_image(role, base_image):
    if not isinstance(role, str) or os.sep in role or role.startswith("."):
        raise AnsibleFilterError(f"container_image: {role!r} is not a role name")
    path = os.path.join(_ROLES, role, "files", "Containerfile")
    try:
        with open(path, encoding="utf-8") as handle:
            containerfile = handle.read()
    except OSError as exc:
        raise AnsibleFilterError(f"container_image: role {role!r} ships no Containerfile ({exc})") from exc
    try:
        image = _container.image_reference(role, containerfile, base_image)
    except _container.ContainerSpecError as exc:
        raise AnsibleFilterError(f"container_image: {exc}") from exc
    return dict(image, containerfile=containerfile)


class FilterModule:
    def filters(self):
        return {"container_image": container_image}
