from __future__ import annotations

import grp
import json
import os
import pwd

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ffmesh.gateway.plugins.modules import config_files

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(capsys, files, **special):
    args = {"files": [{"owner": OWNER, "group": GROUP, **spec} for spec in files], **special}
    with patch_module_args(args), pytest.raises(SystemExit):
        config_files.main()
    return json.loads(capsys.readouterr().out)


def test_writes_what_differs_and_then_nothing(tmp_path, capsys):
    files = [{"path": str(tmp_path / "a.conf"), "content": "a = 1\n", "mode": "0644"},
             {"path": str(tmp_path / "up"), "content": "#!/bin/sh\n", "mode": "0755"}]
    first = run(capsys, files)
    assert first["changed"] and first["changed_paths"] == [str(tmp_path / "a.conf"), str(tmp_path / "up")]
    assert (tmp_path / "a.conf").read_text() == "a = 1\n"
    assert oct((tmp_path / "up").stat().st_mode & 0o7777) == "0o755"
    again = run(capsys, files)
    assert not again["changed"] and again["changed_paths"] == []
    assert sorted(os.listdir(tmp_path)) == ["a.conf", "up"]


def test_a_failed_check_leaves_every_file_as_it_was(tmp_path, capsys):
    (tmp_path / "a.conf").write_text("old a\n")
    (tmp_path / "b.conf").write_text("old b\n")
    result = run(capsys, [
        {"path": str(tmp_path / "a.conf"), "content": "new a\n", "mode": "0644", "validate": "grep -q new %s"},
        {"path": str(tmp_path / "b.conf"), "content": "new b\n", "mode": "0644", "validate": "grep -q nowhere %s"},
    ])
    assert result["failed"] and str(tmp_path / "b.conf") in result["msg"] and "nothing was written" in result["msg"]
    assert (tmp_path / "a.conf").read_text() == "old a\n" and (tmp_path / "b.conf").read_text() == "old b\n"
    assert sorted(os.listdir(tmp_path)) == ["a.conf", "b.conf"]


def test_the_check_reads_the_new_content(tmp_path, capsys):
    (tmp_path / "a.conf").write_text("old\n")
    result = run(capsys, [{"path": str(tmp_path / "a.conf"), "content": "good\n", "mode": "0644", "validate": "grep -qx good %s"}])
    assert result["changed"] and (tmp_path / "a.conf").read_text() == "good\n"


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "a.conf").write_text("old\n")
    result = run(capsys, [{"path": str(tmp_path / "a.conf"), "content": "new\n", "mode": "0644"},
                          {"path": str(tmp_path / "b.conf"), "content": "b\n", "mode": "0644"}],
                 _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed_paths"] == [str(tmp_path / "a.conf"), str(tmp_path / "b.conf")]
    assert [(d["before"], d["after"]) for d in result["diff"]] == [("old\n", "new\n"), ("", "b\n")]
    assert (tmp_path / "a.conf").read_text() == "old\n" and not (tmp_path / "b.conf").exists()


def test_check_mode_takes_a_missing_directory_for_one_still_to_be_made(tmp_path, capsys):
    path = str(tmp_path / "new" / "a.conf")
    result = run(capsys, [{"path": path, "content": "a\n", "mode": "0644"}], _ansible_check_mode=True)
    assert result["changed_paths"] == [path] and not (tmp_path / "new").exists()


def test_a_mode_alone_is_a_change_without_a_diff(tmp_path, capsys):
    (tmp_path / "a.conf").write_text("same\n")
    os.chmod(tmp_path / "a.conf", 0o600)
    result = run(capsys, [{"path": str(tmp_path / "a.conf"), "content": "same\n", "mode": "0644"}], _ansible_diff=True)
    assert result["changed_paths"] == [str(tmp_path / "a.conf")] and result["diff"] == []
    assert oct((tmp_path / "a.conf").stat().st_mode & 0o7777) == "0o644"


def test_absent_files_go_with_the_others(tmp_path, capsys):
    (tmp_path / "old.conf").write_text("old\n")
    files = [{"path": str(tmp_path / "new.conf"), "content": "new\n", "mode": "0644"},
             {"path": str(tmp_path / "old.conf"), "state": "absent"}]
    result = run(capsys, files, _ansible_diff=True)
    assert result["changed_paths"] == [str(tmp_path / "new.conf"), str(tmp_path / "old.conf")]
    assert [(d["before"], d["after"]) for d in result["diff"]] == [("", "new\n"), ("old\n", "")]
    assert os.listdir(tmp_path) == ["new.conf"]
    assert not run(capsys, files)["changed"]


def test_a_directory_listed_as_absent_fails_before_anything_is_written(tmp_path, capsys):
    (tmp_path / "old.d").mkdir()
    result = run(capsys, [{"path": str(tmp_path / "new.conf"), "content": "new\n", "mode": "0644"},
                          {"path": str(tmp_path / "old.d"), "state": "absent"}])
    assert result["failed"] and "is a directory" in result["msg"] and os.listdir(tmp_path) == ["old.d"]


def test_a_failed_check_keeps_the_files_listed_as_absent(tmp_path, capsys):
    (tmp_path / "old.conf").write_text("old\n")
    result = run(capsys, [{"path": str(tmp_path / "new.conf"), "content": "new\n", "mode": "0644", "validate": "false %s"},
                          {"path": str(tmp_path / "old.conf"), "state": "absent"}])
    assert result["failed"] and os.listdir(tmp_path) == ["old.conf"]


def test_a_new_file_has_its_group_before_it_replaces_the_old(tmp_path, capsys):
    group = grp.getgrnam("nogroup") if os.getuid() == 0 else grp.getgrgid(os.getgid())
    path = tmp_path / "kea.conf"
    path.write_text("old\n")
    result = run(capsys, [{"path": str(path), "content": "new\n", "mode": "0640", "group": group.gr_name,
                           "validate": f"sh -c 'test $(stat -c %%g \"$0\") = {group.gr_gid}' %s"}])
    assert result["changed"] and path.stat().st_gid == group.gr_gid and path.read_text() == "new\n"


@pytest.mark.parametrize("spec, message", [
    ({"group": "no-such-group-ffmesh"}, "no group 'no-such-group-ffmesh'"),
    ({"content": None}, "content and mode are required"),
    ({"mode": "644x"}, "is not an octal mode"),
    ({"path": "/nonexistent-ffmesh/a.conf"}, "its directory does not exist"),
    ({"validate": "true"}, "validate must contain %s"),
])
def test_bad_input_fails_before_anything_is_written(tmp_path, capsys, spec, message):
    good = {"path": str(tmp_path / "first.conf"), "content": "x\n", "mode": "0644"}
    bad = {"path": str(tmp_path / "second.conf"), "content": "y\n", "mode": "0644", **spec}
    result = run(capsys, [good, bad])
    assert result["failed"] and message in result["msg"]
    assert os.listdir(tmp_path) == []
