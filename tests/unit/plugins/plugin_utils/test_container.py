from __future__ import annotations

import shlex

import pytest

from ansible_collections.ffmesh.gateway.plugins.plugin_utils._container import (
    ContainerSpecError,
    command,
    image_reference,
)

BASE = "docker.io/library/debian:trixie"
FASTD = "/usr/bin/fastd --config /freifunk/fastd/fastd-%i.conf"


def test_native_runtime_runs_the_command_as_it_is():
    assert command(FASTD, {"runtime": "native", "image": "ignored"}) == FASTD
    assert command(FASTD, {}) == FASTD


def test_podman_puts_the_engine_in_front_and_mounts_at_the_same_path():
    spec = {"runtime": "container", "engine": "podman", "image": "localhost/ffmesh-fastd:0123456789ab",
            "name": "ffmesh-fastd-%i", "capabilities": ["NET_ADMIN"], "devices": ["/dev/net/tun"],
            "read_only_volumes": ["/freifunk/fastd"], "volumes": ["/run/ffmesh-fastd-%i"],
            "environment": {"B": "2", "A": "x y"}}
    argv = shlex.split(command(FASTD, spec))
    assert argv[:3] == ["/usr/bin/podman", "run", "--rm"]
    assert argv[-4:] == ["localhost/ffmesh-fastd:0123456789ab", "/usr/bin/fastd", "--config", "/freifunk/fastd/fastd-%i.conf"]
    pairs = list(zip(argv, argv[1:]))
    for pair in [("--network", "host"), ("--name", "ffmesh-fastd-%i"), ("--cap-add", "NET_ADMIN"),
                 ("--device", "/dev/net/tun"), ("--volume", "/freifunk/fastd:/freifunk/fastd:ro"),
                 ("--volume", "/run/ffmesh-fastd-%i:/run/ffmesh-fastd-%i"), ("--log-driver", "none")]:
        assert pair in pairs
    assert "--replace" in argv
    # Environment in a stable order, values with spaces kept whole.
    assert argv.index("A=x y") < argv.index("B=2")


def test_docker_has_neither_replace_nor_podman_log_settings():
    argv = shlex.split(command("tincd -D", {"runtime": "container", "engine": "docker", "image": "i:1", "name": "ffmesh-tinc"}))
    assert argv[0] == "/usr/bin/docker"
    assert "--replace" not in argv and "--log-driver" not in argv
    assert argv[-3:] == ["i:1", "tincd", "-D"]


def test_docker_containers_get_the_open_files_limit_of_a_systemd_service():
    spec = {"runtime": "container", "engine": "docker", "image": "i:1"}
    for line in (command("fastd", spec), command("fastd --config %s", spec, check_file="/run/c")):
        argv = shlex.split(line)
        assert argv[argv.index("--ulimit") + 1] == "nofile=1024:524288"
    assert "--ulimit" not in shlex.split(command("fastd", {**spec, "engine": "podman"}))


def test_check_file_takes_the_place_of_the_file_to_validate():
    spec = {"runtime": "container", "image": "i:1", "read_only_volumes": ["/freifunk/fastd"]}
    line = command("fastd --verify-config --config %s", spec, check_file="/run/ffmesh-check/fastd.conf")
    # ansible's validate substitutes the one %s left: the temporary file, mounted read-only.
    assert line.count("%s") == 1
    argv = shlex.split(line % "/root/.ansible/tmp/x/source")
    assert ("--volume", "/root/.ansible/tmp/x/source:/run/ffmesh-check/fastd.conf:ro") in list(zip(argv, argv[1:]))
    assert argv[-4:] == ["fastd", "--verify-config", "--config", "/run/ffmesh-check/fastd.conf"]
    assert ("--network", "none") in list(zip(argv, argv[1:]))


def test_the_check_runs_in_the_daemons_image_with_nothing_but_its_state_read_only():
    spec = {"runtime": "container", "engine": "podman", "image": "localhost/ffmesh-dhcpd:0123456789ab",
            "name": "ffmesh-dhcpd", "network": "host",
            "capabilities": ["NET_RAW"], "devices": ["/dev/net/tun"], "environment": {"A": "1"},
            "volumes": ["/freifunk/dhcpd"], "read_only_volumes": ["/freifunk/keys"],
            "runtime_directory": "/run/ffmesh-dhcpd"}
    argv = shlex.split(command("kea-dhcp4 -t %s", spec, check_file="/c", check_network="host") % "/tmp/f")
    assert argv == ["/usr/bin/podman", "run", "--rm", "--network", "host", "--log-driver", "none",
                    "--volume", "/freifunk/dhcpd:/freifunk/dhcpd:ro", "--volume", "/freifunk/keys:/freifunk/keys:ro",
                    "--volume", "/tmp/f:/c:ro", "localhost/ffmesh-dhcpd:0123456789ab", "kea-dhcp4", "-t", "/c"]


def test_a_one_off_command_runs_in_the_daemons_image_beside_the_running_daemon():
    spec = {"runtime": "container", "engine": "podman", "image": "localhost/ffmesh-recursor:0123456789ab",
            "name": "ffmesh-recursor", "network": "host",
            "read_only_volumes": ["/freifunk/recursor"], "runtime_directory": "/run/ffmesh-recursor"}
    argv = shlex.split(command("dpkg-query --showformat='${Version}' --show pdns-recursor", spec, one_off=True))
    # No name (a --replace would stop the daemon) and no network: it asks the image, nobody else.
    assert argv == ["/usr/bin/podman", "run", "--rm", "--network", "none", "--log-driver", "none",
                    "--volume", "/freifunk/recursor:/freifunk/recursor:ro", "localhost/ffmesh-recursor:0123456789ab",
                    "dpkg-query", "--showformat=${Version}", "--show", "pdns-recursor"]
    assert command("dpkg-query --show pdns-recursor", {"runtime": "native"}, one_off=True) == "dpkg-query --show pdns-recursor"


def test_runtime_directory_is_mounted_read_write_when_the_daemon_runs():
    spec = {"runtime": "container", "image": "i:1", "read_only_volumes": ["/freifunk/fastd"],
            "runtime_directory": "/run/ffmesh-fastd-%i"}
    pairs = list(zip(*[iter(shlex.split(command("fastd", spec))[5:-2])] * 2))
    assert ("--volume", "/run/ffmesh-fastd-%i:/run/ffmesh-fastd-%i") in pairs
    assert ("--volume", "/freifunk/fastd:/freifunk/fastd:ro") in pairs


def test_the_network_is_the_hosts_or_none():
    argv = shlex.split(command("pdns_recursor", {"runtime": "container", "image": "i:1"}))
    assert ("--network", "host") in list(zip(argv, argv[1:]))
    argv = shlex.split(command("pdns_recursor", {"runtime": "container", "image": "i:1", "network": "none"}))
    assert ("--network", "none") in list(zip(argv, argv[1:]))


def test_native_runtime_ignores_container_settings_but_still_checks_the_check_file():
    assert command("kea -t %s", {"network": "none"}, check_file="/c") == "kea -t %s"
    with pytest.raises(ContainerSpecError, match="check_file needs a command with %s"):
        command("kea", {}, check_file="/c")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"runtime": "vm"}, "runtime 'vm' must be one of native, container"),
        ({"runtime": "container", "engine": "lxc", "image": "i"}, "engine 'lxc'"),
        ({"runtime": "container"}, "image None must be an image reference"),
        ({"runtime": "container", "image": "a b"}, "image 'a b'"),
        ({"runtime": "container", "image": "i", "network": "freifunk-net"}, "network 'freifunk-net' must be one of host, none"),
        ({"runtime": "container", "image": "i", "addresses": ["10.0.0.1"]}, "unknown keys addresses"),
        ({"runtime": "container", "image": "i", "runtime_directory": "run"}, "runtime_directory: 'run'"),
        ({"runtime": "container", "image": "i", "volumes": ["relative"]}, "volumes: 'relative' must be an absolute path"),
        ({"runtime": "container", "image": "i", "volumes": ["/a:/b"]}, "without ':'"),
        ({"runtime": "container", "image": "i", "volumes": "/a"}, "volumes must be a list"),
        ({"runtime": "container", "image": "i", "name": "Bad Name"}, "name 'Bad Name'"),
        ({"runtime": "container", "image": "i", "environment": ["A=1"]}, "environment must be a dict"),
        ({"runtime": "native", "volume": ["/a"]}, "unknown keys volume"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(spec, message):
    with pytest.raises(ContainerSpecError) as error:
        command("daemon", spec)
    assert message in str(error.value)


def test_image_tag_follows_recipe_and_base_image():
    first = image_reference("fastd", "FROM ${BASE_IMAGE}\n", BASE)
    assert first == image_reference("fastd", "FROM ${BASE_IMAGE}\n", BASE)
    assert first["name"] == "localhost/ffmesh-fastd"
    assert first["ref"] == f"localhost/ffmesh-fastd:{first['tag']}" and len(first["tag"]) == 12
    assert image_reference("fastd", "FROM ${BASE_IMAGE}\nRUN true\n", BASE)["tag"] != first["tag"]
    assert image_reference("fastd", "FROM ${BASE_IMAGE}\n", "localhost/debian:trixie")["tag"] != first["tag"]


@pytest.mark.parametrize(("service", "base"), [("Fastd", BASE), ("../x", BASE), ("fastd", ""), ("fastd", "a b")])
def test_image_reference_refuses_bad_names(service, base):
    with pytest.raises(ContainerSpecError):
        image_reference(service, "FROM x\n", base)
