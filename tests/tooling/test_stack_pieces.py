"""The pieces of scripts/stack that need no running stack: cgroup files in either
layout (written into a stand-in tree, so no root is needed), sizes, process identity.
tests/stack/test_stack_script.py runs the whole stack."""

import argparse
import os
import subprocess
import sys

import pytest

from tooling.stack.cgroups import CFS_PERIOD_US, Cgroup, Share, cgroup_version
from tooling.stack.commands import main, parse_size
from tooling.stack.state import process_record, same_process


def v1_tree(root):
    for controller in ("cpu", "memory"):
        (root / controller).mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    return root


def v2_tree(root):
    (root / "cgroup.controllers").write_text("cpu memory")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_version_one_gets_a_quota_per_period_and_a_byte_limit(tmp_path):
    root = v1_tree(tmp_path)
    cgroup = Cgroup("app1", root=root)
    cgroup.create(Share(cpu=0.5, memory_bytes=2**30))

    assert cgroup_version(root) == 1
    assert (root / "cpu" / "app1" / "cpu.cfs_quota_us").read_text() == str(CFS_PERIOD_US // 2)
    assert (root / "cpu" / "app1" / "cpu.cfs_period_us").read_text() == str(CFS_PERIOD_US)
    assert (root / "memory" / "app1" / "memory.limit_in_bytes").read_text() == str(2**30)


def test_version_two_gets_cpu_max_and_memory_max(tmp_path):
    root = v2_tree(tmp_path)
    cgroup = Cgroup("app1", root=root)
    cgroup.create(Share(cpu=1.5, memory_bytes=512 * 2**20))

    assert cgroup_version(root) == 2
    assert cgroup.directories == [root / "app1"]
    assert (root / "app1" / "cpu.max").read_text() == f"150000 {CFS_PERIOD_US}"
    assert (root / "app1" / "memory.max").read_text() == str(512 * 2**20)
    # The parent hands both controllers down, else the files would have no effect.
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory"


def test_a_machine_without_either_layout_says_so(tmp_path):
    with pytest.raises(RuntimeError, match="no cgroup"):
        cgroup_version(tmp_path)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1g", 2**30), ("512m", 512 * 2**20), ("1.5G", 3 * 2**29), ("64k", 65536), ("1000", 1000)],
)
def test_sizes_are_read_as_docker_writes_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "1t", "lots", "-1g"])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


def test_a_process_is_ours_only_while_its_start_time_matches():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = process_record(child.pid)
        assert same_process(**record)
        assert not same_process(child.pid, record["started"] + 1)  # a reused number
    finally:
        child.kill()
        child.wait()
    assert not same_process(**record)
    assert not same_process(os.getpid(), None)


def test_down_and_status_without_a_stack_do_nothing(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "down"]) == 0
    assert main(["--state-dir", str(tmp_path), "down"]) == 0  # twice: still nothing
    assert main(["--state-dir", str(tmp_path), "status", "--json"]) == 1
    assert '"status": "down"' in capsys.readouterr().out
