from __future__ import annotations

import shlex

import pytest

from ansible_collections.ffmesh.gateway.plugins.module_utils._container import (
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


def test_check_file_takes_the_place_of_the_file_to_validate():
    spec = {"runtime": "container", "image": "i:1", "network": "none", "read_only_volumes": ["/freifunk/fastd"],
            "check_file": "/run/ffmesh-check/fastd.conf"}
    line = command("fastd --verify-config --config %s", spec)
    # ansible's validate substitutes the one %s left: the temporary file, mounted read-only.
    assert line.count("%s") == 1
    argv = shlex.split(line % "/root/.ansible/tmp/x/source")
    assert ("--volume", "/root/.ansible/tmp/x/source:/run/ffmesh-check/fastd.conf:ro") in list(zip(argv, argv[1:]))
    assert argv[-4:] == ["fastd", "--verify-config", "--config", "/run/ffmesh-check/fastd.conf"]
    assert ("--network", "none") in list(zip(argv, argv[1:]))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"runtime": "vm"}, "runtime 'vm' must be one of native, container"),
        ({"runtime": "container", "engine": "lxc", "image": "i"}, "engine 'lxc'"),
        ({"runtime": "container"}, "image None must be an image reference"),
        ({"runtime": "container", "image": "a b"}, "image 'a b'"),
        ({"runtime": "container", "image": "i", "network": "bridge"}, "network 'bridge'"),
        ({"runtime": "container", "image": "i", "volumes": ["relative"]}, "volumes: 'relative' must be an absolute path"),
        ({"runtime": "container", "image": "i", "volumes": ["/a:/b"]}, "without ':'"),
        ({"runtime": "container", "image": "i", "volumes": "/a"}, "volumes must be a list"),
        ({"runtime": "container", "image": "i", "name": "Bad Name"}, "name 'Bad Name'"),
        ({"runtime": "container", "image": "i", "environment": ["A=1"]}, "environment must be a dict"),
        ({"runtime": "container", "image": "i", "check_file": "/c"}, "check_file needs a command with %s"),
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
