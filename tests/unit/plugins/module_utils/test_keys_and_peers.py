from __future__ import annotations

import base64

import pytest

from ansible_collections.ffmesh.gateway.plugins.module_utils import _keys, _peers

# Pairs printed by fastd v22 (fastd --generate-key / --show-key) and wg(8) on Debian 12.
FASTD_PAIRS = [
    ("b8cb3bf51de3d3c4182e461e3228d0386c10768a22da9c08e37379f3ca9fe54d", "4064ca1873cae00358d045472edd29c26c0ed96eaf335ad2a647d19bfee6f2cc"),
    ("c8dc9740757df8e509ce7209ff00d4d64aa56f0301b24c02afe3599a71bb1870", "99ce861ca7ffd1f805ab0bc95d0aa93374a4cfa5414f9c2a2eb28d544600e0c0"),
]
WG_PAIR = ("gPWdn1uRcM8J2JSOB+nHg3KDIbIEXe4/PIeOTfh03Hc=", "vSqlY5XCpaFXRHTKvLoT0Io5rG6zIQ+1i398kIBqKFI=")


@pytest.mark.parametrize(("secret", "public"), FASTD_PAIRS)
def test_fastd_known_pairs(secret, public):
    assert _keys.public_key("fastd", f'secret "{secret}";\n') == public
    assert _keys.public_key("fastd", secret) == public


def test_wireguard_known_pair():
    assert _keys.public_key("wireguard", WG_PAIR[0] + "\n") == WG_PAIR[1]


@pytest.mark.parametrize("key_type", ["fastd", "wireguard", "tinc"])
def test_generated_pairs_reload_to_the_same_public_key(key_type):
    private, public = _keys.generate(key_type)
    assert _keys.public_key(key_type, private) == public
    assert _keys.validate_public_key(key_type, public)


def test_generated_scalars_are_clamped():
    private = _keys.generate("wireguard")[0]
    raw = base64.b64decode(private)
    assert raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40


@pytest.mark.parametrize(
    ("key_type", "text"),
    [("fastd", "secret 'abc';"), ("wireguard", "not base64!"), ("wireguard", base64.b64encode(b"short").decode()), ("tinc", "garbage")],
)
def test_broken_private_keys_are_reported(key_type, text):
    with pytest.raises(_keys.KeyFormatError):
        _keys.public_key(key_type, text)


def test_tinc_host_file_and_fastd_peer_file():
    tinc_public = _keys.generate("tinc")[1]
    table = _peers.peer_table({"gw1": tinc_public}, {"gw1": ["192.0.2.1", "2001:db8::1"]}, None)
    text = _peers.render("tinc", table)["gw1"]
    assert "Address = 192.0.2.1 655\nAddress = 2001:db8::1 655\nPort = 655\n" in text
    assert text.endswith(tinc_public)
    table = _peers.peer_table({"gw2": FASTD_PAIRS[0][1]}, {"gw2": ["2001:db8::2", "gw2.example.org"]}, 10000)
    text = _peers.render("fastd", table)["gw2"]
    assert f'key "{FASTD_PAIRS[0][1]}";\nremote [2001:db8::2]:10000;\nremote "gw2.example.org" port 10000;\n' in text


@pytest.mark.parametrize(
    ("peer_format", "name", "key", "message"),
    [
        ("tinc", "gw1.example.org", None, "tinc node name"),
        ("fastd", "../etc", FASTD_PAIRS[0][1], "not a safe file name"),
        ("fastd", "gw1", "zz", r"peer gw1: not a fastd public key \(2 characters\)"),
    ],
)
def test_bad_peers(peer_format, name, key, message):
    key = key or _keys.generate("tinc")[1]
    with pytest.raises(_peers.PeerError, match=message):
        _peers.render(peer_format, _peers.peer_table({name: key}))


def test_wireguard_sections_bracket_ipv6_and_skip_self():
    other = _keys.generate("wireguard")[1]
    table = _peers.peer_table({"a": WG_PAIR[1], "b": other}, {"b": "2001:db8::b"}, 51821)
    text = _peers.wireguard_peers(table, {"b": ["10.0.0.2/32", "fd00::2/128"]}, exclude="a", persistent_keepalive=25)
    assert text == f"# b\n[Peer]\nPublicKey = {other}\nAllowedIPs = 10.0.0.2/32, fd00::2/128\nEndpoint = [2001:db8::b]:51821\nPersistentKeepalive = 25\n"


def test_wireguard_sections_for_systemd_networkd():
    text = _peers.wireguard_peers(_peers.peer_table({"a": WG_PAIR[1]}, {"a": "192.0.2.1"}), section="WireGuardPeer")
    assert text == f"# a\n[WireGuardPeer]\nPublicKey = {WG_PAIR[1]}\nEndpoint = 192.0.2.1:51820\n"
    with pytest.raises(_peers.PeerError, match="section 'Interface' is Peer"):
        _peers.wireguard_peers(_peers.peer_table({"a": WG_PAIR[1]}), section="Interface")


def test_secrets_given_as_public_keys_are_not_echoed():
    secret = "b8cb3bf51de3d3c4182e461e3228d0386c10768a22da9c08e37379f3ca9fe54d"
    with pytest.raises(_peers.PeerError) as error:
        _peers.render("fastd", _peers.peer_table({"gw1": f'secret "{secret}";'}))
    assert secret not in str(error.value)


def test_wireguard_keepalive_range():
    with pytest.raises(_peers.PeerError, match="persistent_keepalive -3"):
        _peers.wireguard_peers(_peers.peer_table({"a": WG_PAIR[1]}), persistent_keepalive=-3)


def test_key_record_keeps_members_outside_the_run_and_drops_leavers():
    a, b, c = (_keys.generate("wireguard")[1] for dummy in range(3))
    record = {"gw1": a, "gw2": b, "gw9": c}
    merged = _peers.merge_key_record("wireguard", record, {"gw1": c}, ["gw1", "gw2"])
    assert merged == ({"gw1": c, "gw2": b}, [])


def test_key_record_in_check_mode_names_hosts_without_key():
    a, b = (_keys.generate("wireguard")[1] for dummy in range(2))
    merged = _peers.merge_key_record("wireguard", {"gw2": b}, {"gw1": None, "gw2": None, "gw3": a}, ["gw1", "gw2", "gw3"], check_mode=True)
    assert merged == ({"gw2": b, "gw3": a}, ["gw1", "gw2"])
    with pytest.raises(_peers.PeerError, match="host gw1 reported no wireguard public key"):
        _peers.merge_key_record("wireguard", {}, {"gw1": None}, ["gw1"])


def test_key_record_refuses_members_without_key_and_strangers():
    key = _keys.generate("wireguard")[1]
    with pytest.raises(_peers.PeerError, match="host gw2 is a member of the mesh but its wireguard public key is not on record"):
        _peers.merge_key_record("wireguard", {}, {"gw1": key}, ["gw1", "gw2"])
    with pytest.raises(_peers.PeerError, match="not members"):
        _peers.merge_key_record("wireguard", {}, {"gw3": key}, ["gw1"])
    with pytest.raises(_peers.PeerError, match="host gw1: in the record"):
        _peers.merge_key_record("wireguard", {"gw1": "bogus"}, {}, ["gw1"])
