"""Where a load run's CPU went: the benchmark's per-request split between gunicorn, PostgreSQL,
wrk, everything else on the host, and idle time.

Read from Linux's `/proc`: each process's user + system time (`/proc/<pid>/stat`) and the whole
machine's busy and idle time (`/proc/stat`), both in clock ticks, snapshotted before and after a
run. A process that started during the run counts from zero; one that ended during it drops out
of its group and its time shows under "other" (the machine's busy time less the named groups).
PostgreSQL is counted only when its server runs on this host (processes named `postgres`).
"""

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# /proc/stat's first line: cpu user nice system idle iowait irq softirq steal guest guest_nice.
# guest time is already inside user time, so it is not added again.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
_IDLE_FIELDS = (3, 4)


@dataclass(frozen=True)
class ProcessTimes:
    comm: str
    ppid: int
    cpu_seconds: float


@dataclass(frozen=True)
class CpuSnapshot:
    processes: dict[int, ProcessTimes]
    busy_seconds: float
    idle_seconds: float


def process_stat_parse(line: str) -> tuple[int, ProcessTimes]:
    """`(pid, times)` from one `/proc/<pid>/stat` line.

    The command name sits in parentheses and may itself hold spaces and parentheses, so it ends at
    the line's last `)`; utime and stime are the 14th and 15th fields.
    """
    pid_text, _, rest = line.partition(" (")
    comm, _, after = rest.rpartition(") ")
    fields = after.split()
    # fields[0] is the state (3rd field of the line), so field n of the line is fields[n - 3].
    ticks = int(fields[11]) + int(fields[12])
    return int(pid_text), ProcessTimes(
        comm=comm, ppid=int(fields[1]), cpu_seconds=ticks / CLOCK_TICKS_PER_SECOND
    )


def machine_stat_parse(text: str) -> tuple[float, float]:
    """`(busy seconds, idle seconds)` of all CPUs together, from the text of `/proc/stat`."""
    first = text.splitlines()[0].split()
    if first[0] != "cpu":
        raise ValueError(f"/proc/stat does not start with the cpu line: {first[0]!r}")
    ticks = [int(value) for value in first[1:]]
    busy = sum(ticks[index] for index in _BUSY_FIELDS if index < len(ticks))
    idle = sum(ticks[index] for index in _IDLE_FIELDS if index < len(ticks))
    return busy / CLOCK_TICKS_PER_SECOND, idle / CLOCK_TICKS_PER_SECOND


def cpu_snapshot(proc: Path = PROC) -> CpuSnapshot:
    processes: dict[int, ProcessTimes] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended between the listing and the read
        pid, times = process_stat_parse(line)
        processes[pid] = times
    busy, idle = machine_stat_parse((proc / "stat").read_text())
    return CpuSnapshot(processes=processes, busy_seconds=busy, idle_seconds=idle)


def _descendants_of(root_pid: int, processes: dict[int, ProcessTimes]) -> set[int]:
    tree = {root_pid} if root_pid in processes else set()
    grew = True
    while grew:
        children = {pid for pid, times in processes.items() if times.ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def cpu_split(
    before: CpuSnapshot, after: CpuSnapshot, *, server_pid: int, wrk_seconds: float
) -> dict[str, float]:
    """CPU seconds spent between the snapshots, by group.

    `server_pid`: the gunicorn master (it and every descendant count as "gunicorn");
    `wrk_seconds`: the load generator's own time (it has exited by the second snapshot, so the
    caller reads it from its rusage). "other" is the machine's busy time less the named groups,
    floored at zero: per-process and per-machine tick counts are kept apart by the kernel and may
    disagree by a tick or two.
    """

    def spent(pids: set[int]) -> float:
        total = 0.0
        for pid in pids:
            previous = before.processes.get(pid)
            now = after.processes[pid]
            # A pid reused by another program since the first snapshot starts from zero.
            if previous is not None and previous.comm == now.comm:
                total += now.cpu_seconds - previous.cpu_seconds
            else:
                total += now.cpu_seconds
        return total

    gunicorn = spent(_descendants_of(server_pid, after.processes))
    postgres = spent({pid for pid, times in after.processes.items() if times.comm == "postgres"})
    busy = after.busy_seconds - before.busy_seconds
    return {
        "gunicorn": gunicorn,
        "postgresql": postgres,
        "wrk": wrk_seconds,
        "other": max(0.0, busy - gunicorn - postgres - wrk_seconds),
        "idle": after.idle_seconds - before.idle_seconds,
    }


def cpu_per_request(split: dict[str, float], requests: int) -> dict[str, float]:
    """Milliseconds per request answered, per group and in total (3 decimals)."""
    if requests <= 0:
        return dict.fromkeys([*split, "total"], 0.0)
    per_request = {name: round(seconds * 1000 / requests, 3) for name, seconds in split.items()}
    per_request["total"] = round(sum(split.values()) * 1000 / requests, 3)
    return per_request
