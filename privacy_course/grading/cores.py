"""How much CPU and memory this process may really use, from its control groups.

Why: a grading server on a hub runs inside a cgroup (SystemdSpawner, a Kubernetes pod) whose
CPU quota and memory limit are far below the host's. `os.sched_getaffinity` and `os.cpu_count`
see the host's cores (16 host cores meant 17 workers inside a 1 GiB server), so the worker count
is taken from the cgroup's CPU quota and capped by its memory limit instead.

Both cgroup versions are read: v2 (`cpu.max`, `memory.max`) and v1 (`cpu.cfs_quota_us` /
`cpu.cfs_period_us`, `memory.limit_in_bytes`). A limit set on any ancestor group applies too,
so every level of the process's path is read and the smallest limit wins.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# v1 reports "no limit" as a huge page-aligned number rather than "max".
UNLIMITED_V1 = 1 << 62


def _cgroup_paths(proc_cgroup: Path) -> dict[str, str]:
    """{controller: path} of this process; the v2 unified hierarchy is under key ""."""
    paths: dict[str, str] = {}
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _levels(base: Path, path: str) -> list[Path]:
    """The group's folder and every ancestor's, up to the hierarchy's root."""
    parts = [p for p in path.split("/") if p]
    return [base.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _v1_folder(root: Path, controller: str) -> Path | None:
    """The v1 hierarchy holding `controller` (mounted as e.g. cpu,cpuacct or cpu)."""
    if (root / controller).is_dir():
        return root / controller
    for folder in sorted(root.glob(f"*{controller}*")):
        if controller in folder.name.split(","):
            return folder
    return None


def _levels_of(controller: str, root: Path, proc_cgroup: Path) -> tuple[int, list[Path]]:
    """(cgroup version, the folders of this process's group and its ancestors) for a
    controller: the v1 hierarchy holding it, else the v2 unified one. (0, []) when neither."""
    paths = _cgroup_paths(proc_cgroup)
    if controller in paths and (folder := _v1_folder(root, controller)) is not None:
        return 1, _levels(folder, paths[controller])
    if "" in paths:
        return 2, _levels(root, paths[""])
    return 0, []


def cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
              ) -> float | None:
    """CPUs allowed by the cgroup quota (1.5 for "150000 100000"), or None when unlimited."""
    version, levels = _levels_of("cpu", root, proc_cgroup)
    limits = []
    for level in levels:
        if version == 1:
            quota, period = _read(level / "cpu.cfs_quota_us"), _read(level / "cpu.cfs_period_us")
        else:
            quota, _, period = (_read(level / "cpu.max") or "max").partition(" ")
        if quota and quota.isdigit() and period and int(quota) > 0:
            limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def memory_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
                 ) -> int | None:
    """Bytes of memory the cgroup allows, or None when unlimited."""
    version, levels = _levels_of("memory", root, proc_cgroup)
    name = "memory.limit_in_bytes" if version == 1 else "memory.max"
    limits = [int(text) for level in levels
              if (text := _read(level / name)) and text.isdigit() and int(text) < UNLIMITED_V1]
    return min(limits) if limits else None


def usable_cores() -> int:
    """Whole cores this process may keep busy: the CPUs it may run on (affinity), cut to the
    cgroup's CPU quota rounded up (a 1.5-CPU quota keeps two processes busy part of the time)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)
