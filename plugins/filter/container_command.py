# Copyright: ffmesh.gateway contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: container_command
short_description: A daemon's command line under the native or the container runtime
version_added: 0.1.0
description:
  - Returns O(_input) unchanged for the native runtime. For the container runtime it puts
    C(podman run) or C(docker run) in front of it, with the host's network (or none), capabilities,
    devices, environment and volumes. Volumes are mounted at the same path inside, so the
    daemon's configuration is the same under both runtimes.
  - With O(check_file), the line checks a configuration file instead. Every C(%s) in the command
    is replaced by that path and the file C(%s) is mounted there read-only. That makes a task's
    C(validate) run the daemon's own configuration check inside the daemon's image, derived from
    the same O(spec) that runs the daemon, with every volume read-only, on O(check_network), without
    name, capabilities, devices, environment or runtime directory.
  - With O(one_off), the line runs the command once in the daemon's image as a check does, without a
    file, for example to ask the image for its daemon's version while the daemon runs.
  - With O(spec.name) and the Podman engine, C(--replace) lets the next start remove a container
    left over from a crash.
options:
  _input:
    description: The daemon's command line as it runs natively.
    type: str
    required: true
  spec:
    description: How the daemon runs.
    type: dict
    required: true
    suboptions:
      runtime:
        description: C(native) or C(container).
        type: str
        default: native
      engine:
        description: C(podman) or C(docker).
        type: str
        default: podman
      image:
        description: The image reference, for example the C(ref) of P(ffmesh.gateway.container_image#filter).
        type: str
      name:
        description: The container's name; systemd specifiers such as C(%i) may be part of it.
        type: str
      network:
        description:
          - C(host) (the daemon uses the host's interfaces and addresses, and its traffic leaves as
            the host's own does) or C(none).
        type: str
        default: host
        choices: [host, none]
      capabilities:
        description: Capabilities to add.
        type: list
        elements: str
      devices:
        description: Device files to pass in.
        type: list
        elements: str
      environment:
        description: Environment variables.
        type: dict
      volumes:
        description: Host paths mounted read-write at the same path.
        type: list
        elements: str
      read_only_volumes:
        description: Host paths mounted read-only at the same path.
        type: list
        elements: str
      runtime_directory:
        description: The unit's C(RuntimeDirectory), for sockets; mounted read-write at the same path.
        type: str
  check_file:
    description: Path inside the container where the file C(%s) is mounted read-only.
    type: str
  check_network:
    description: The network of the check, C(none) unless the check needs the host's interfaces.
    type: str
    default: none
  one_off:
    description: Run the command once in the daemon's image, as O(check_file) does but without a file.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check a fastd configuration with the fastd of the image
  ansible.builtin.template:
    src: fastd.conf.j2
    dest: /freifunk/fastd/fastd-0.conf
    mode: "0600"
    validate: >-
      {{ 'fastd --verify-config --config %s'
         | ffmesh.gateway.container_command(fastd_container, check_file='/run/ffmesh-check/fastd.conf') }}
  vars:
    fastd_container:
      runtime: container
      engine: podman
      image: localhost/ffmesh-fastd:0123456789ab
      name: ffmesh-fastd-%i
      capabilities: [NET_ADMIN]
      devices: [/dev/net/tun]
      read_only_volumes: [/freifunk/fastd]
      runtime_directory: /run/ffmesh-fastd-%i

- name: Run the recursor on the host's network, where the mesh bridge has its address
  ansible.builtin.set_fact:
    recursor_exec_start: "{{ '/usr/sbin/pdns_recursor --daemon=no' | ffmesh.gateway.container_command(recursor_container) }}"
  vars:
    recursor_container:
      runtime: container
      image: localhost/ffmesh-recursor:0123456789ab
      name: ffmesh-recursor

- name: Ask the recursor's image which recursor it has, while the recursor runs
  ansible.builtin.command: >-
    {{ "dpkg-query --showformat='${Version}' --show pdns-recursor"
       | ffmesh.gateway.container_command(recursor_container, one_off=true) }}
  register: recursor_version
  changed_when: false
  vars:
    recursor_container:
      runtime: container
      image: localhost/ffmesh-recursor:0123456789ab
      name: ffmesh-recursor
"""

RETURN = r"""
_value:
  description: The command line, shell-quoted.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ffmesh.gateway.plugins.plugin_utils import _container


def container_command(daemon_command, spec, check_file=None, check_network="none", one_off=False):
    if not isinstance(daemon_command, str) or not isinstance(spec, dict):
        raise AnsibleFilterError("container_command: expects a command string and a spec dict")
    try:
        return _container.command(daemon_command, spec, check_file=check_file, check_network=check_network,
                                  one_off=bool(one_off))
    except _container.ContainerSpecError as exc:
        raise AnsibleFilterError(f"container_command: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"container_command": container_command}
