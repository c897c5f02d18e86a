import subprocess
import sys

import pytest

from devtools.bench_cpu import (
    CLOCK_TICKS_PER_SECOND,
    CpuSnapshot,
    ProcessTimes,
    cpu_per_request,
    cpu_snapshot,
    cpu_split,
    machine_stat_parse,
    process_stat_parse,
)

TICK = 1 / CLOCK_TICKS_PER_SECOND


def _seconds(ticks: int) -> float:
    return ticks / CLOCK_TICKS_PER_SECOND


def _stat_line(pid: int, comm: str, ppid: int, utime: int, stime: int) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    return f"{pid} ({comm}) S {ppid} 1 1 0 -1 4194304 100 0 0 0 {utime} {stime} 0 0 20 0 1 0\n"


def test_process_stat_parse_reads_ppid_and_user_plus_system_time():
    pid, times = process_stat_parse(_stat_line(4242, "gunicorn", 4200, 150, 50))

    assert pid == 4242
    assert times == ProcessTimes(comm="gunicorn", ppid=4200, cpu_seconds=_seconds(200))


def test_process_stat_parse_keeps_a_command_name_with_spaces_and_parentheses():
    pid, times = process_stat_parse(_stat_line(7, "a (b) c", 1, 3, 4))

    assert (pid, times.comm, times.ppid, times.cpu_seconds) == (7, "a (b) c", 1, _seconds(7))


def test_machine_stat_parse_adds_busy_fields_and_idle_fields():
    # user nice system idle iowait irq softirq steal guest guest_nice
    text = "cpu  100 2 30 500 7 1 3 4 50 0\ncpu0 50 1 15 250 3 0 1 2 25 0\nintr 1\n"

    busy, idle = machine_stat_parse(text)

    # guest (50) is already inside user (100): not added again.
    assert (busy, idle) == (_seconds(100 + 2 + 30 + 1 + 3 + 4), _seconds(500 + 7))


def test_machine_stat_parse_refuses_text_without_the_cpu_line():
    with pytest.raises(ValueError, match="cpu line"):
        machine_stat_parse("intr 1\n")


def _times(comm: str, ppid: int, seconds: float) -> ProcessTimes:
    return ProcessTimes(comm=comm, ppid=ppid, cpu_seconds=seconds)


def test_cpu_split_groups_the_server_tree_postgres_and_the_rest():
    before = CpuSnapshot(
        processes={
            100: _times("python", 1, 1.0),  # gunicorn master
            101: _times("python", 100, 10.0),  # worker
            102: _times("python", 100, 20.0),  # worker
            300: _times("postgres", 1, 5.0),  # postmaster
            301: _times("postgres", 300, 2.0),  # backend
            400: _times("redis-server", 1, 3.0),
            500: _times("python", 1, 9.0),  # reused below by another program
        },
        busy_seconds=1000.0,
        idle_seconds=50.0,
    )
    after = CpuSnapshot(
        processes={
            100: _times("python", 1, 1.5),
            101: _times("python", 100, 12.0),
            102: _times("python", 100, 23.0),
            103: _times("python", 100, 0.5),  # a worker started during the run
            104: _times("sh", 103, 0.25),  # a worker's own child
            300: _times("postgres", 1, 5.25),
            301: _times("postgres", 300, 3.0),
            302: _times("postgres", 300, 0.75),  # a backend opened during the run
            400: _times("redis-server", 1, 3.5),
            500: _times("postgres", 300, 0.5),  # pid 500 now belongs to a new backend
        },
        busy_seconds=1012.0,
        idle_seconds=50.5,
    )

    split = cpu_split(before, after, server_pid=100, wrk_seconds=1.25)

    assert split == {
        "gunicorn": 0.5 + 2.0 + 3.0 + 0.5 + 0.25,
        "postgresql": 0.25 + 1.0 + 0.75 + 0.5,
        "wrk": 1.25,
        "other": 12.0 - 6.25 - 2.5 - 1.25,
        "idle": 0.5,
    }


def test_cpu_split_floors_other_at_zero_when_tick_counts_disagree():
    before = CpuSnapshot(processes={9: _times("python", 1, 1.0)}, busy_seconds=10, idle_seconds=0)
    after = CpuSnapshot(processes={9: _times("python", 1, 3.0)}, busy_seconds=11.99, idle_seconds=0)

    split = cpu_split(before, after, server_pid=9, wrk_seconds=0.0)

    assert split["gunicorn"] == 2.0
    assert split["other"] == 0.0


def test_cpu_per_request_in_milliseconds_with_a_total():
    split = {"gunicorn": 1.5, "postgresql": 0.5, "wrk": 0.25, "other": 0.0, "idle": 0.75}

    assert cpu_per_request(split, 1000) == {
        "gunicorn": 1.5,
        "postgresql": 0.5,
        "wrk": 0.25,
        "other": 0.0,
        "idle": 0.75,
        "total": 3.0,
    }
    assert cpu_per_request(split, 0) == dict.fromkeys([*split, "total"], 0.0)


def test_cpu_snapshot_reads_a_real_process_tree_as_the_kernel_counts_it():
    # given a child that burns CPU, reports its own times() and then sleeps on stdin
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "end = time.process_time() + 0.3\n"
            "while time.process_time() < end: pass\n"
            "t = os.times()\n"
            "print(t.user + t.system, flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        reported = float(child.stdout.readline())  # not money: CPU seconds

        # when the tree under this test process is read from /proc
        snapshot = cpu_snapshot()
        split = cpu_split(
            CpuSnapshot(processes={}, busy_seconds=0.0, idle_seconds=0.0),
            snapshot,
            server_pid=child.pid,
            wrk_seconds=0.0,
        )
    finally:
        child.communicate("")

    # then the child's time is what the kernel told the child itself (same counters), give or take
    # the one tick that its last microseconds (printing, starting to read) may have crossed
    assert snapshot.processes[child.pid].comm.startswith("python")
    assert split["gunicorn"] == pytest.approx(reported, abs=TICK)
    # process_time() counts in nanoseconds, os.times() in whole ticks that it rounds down: the
    # child may stop its loop at 0.3 s and report 0.29
    assert reported >= 0.3 - TICK
