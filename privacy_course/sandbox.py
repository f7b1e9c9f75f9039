"""The restricted kernel that runs a learner's notebook during grading.

nbgrader runs learners' code as the grading user, inside the course folder: without this, a
submission could read the gradebook (every learner's personal data), `source/` (the answer
keys) and other learners' work, or reach the network. Here each notebook's kernel is started by
`python -m privacy_course.sandbox -f <connection file>` (a dedicated kernelspec, seen only by
grading workers), which:

- copies the submission folder (the kernel's working folder) into a private folder;
- starts the kernel under bubblewrap with new user, PID, network, IPC and mount namespaces: the
  only things it can see are read-only system and Python folders, the private copy (at the same
  path as the submission, so relative paths work) and a small private /tmp; no home folder, no
  course folder, no network (the kernel talks to nbgrader over Unix sockets, ZeroMQ's `ipc`
  transport, in a folder private to the grading worker);
- applies kernel resource limits on CPU time, address space and file size, and bounds the number
  of processes (a pids cgroup when grading runs as root, which ignores RLIMIT_NPROC; otherwise
  RLIMIT_NPROC), all set in `SandboxSettings` in grader_config.py.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ENV = "PRIVACY_COURSE_SANDBOX"


class SandboxUnavailable(RuntimeError):
    """Isolation is not possible on this machine; the message says why and what to do."""


def _python_roots() -> list[str]:
    """Folders the kernel's Python needs, read-only: the interpreter's installation, the
    environment's site-packages and this package (for an editable install, its source)."""
    paths = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"], str(Path(__file__).resolve().parent)}
    return sorted(p for p in paths if p and os.path.exists(p))


def _bwrap() -> str:
    found = shutil.which("bwrap")
    if not found:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install "
                                 "bubblewrap`, or see SandboxSettings in grader_config.py")
    return found


PIDS_CGROUPS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def _pids_cgroup(limit: int) -> Path | None:
    """A cgroup capping the sandbox's process count (root only: root ignores RLIMIT_NPROC)."""
    if os.geteuid() != 0:
        return None
    for base in PIDS_CGROUPS:
        try:
            for stale in Path(base).glob("privacy-course-*"):  # left by a killed grading run
                if _launcher_alive(stale.name.rsplit("-", 1)[-1]):
                    continue  # another launcher's, perhaps still being set up: not stale
                try:
                    if not (stale / "cgroup.procs").read_text().strip():
                        stale.rmdir()
                except OSError:
                    pass
            group = Path(base) / f"privacy-course-{os.getpid()}"
            group.mkdir(exist_ok=True)
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            continue
    return None


def _launcher_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def bwrap_command(workdir: str, sockets: str, limits: dict[str, Any], argv: list[str]
                  ) -> list[str]:
    cmd = [_bwrap(), "--unshare-all", "--die-with-parent", "--as-pid-1", "--size",
           str(limits["tmp_mb"] * 1024 * 1024), "--tmpfs", "/tmp",
           "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            cmd += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            cmd += ["--ro-bind", str(target), str(target)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(etc):
            cmd += ["--ro-bind", etc, etc]
    for root in _python_roots():
        cmd += ["--ro-bind", root, root]
    cmd += ["--bind", sockets, sockets, "--bind", workdir, limits["cwd"], "--chdir", limits["cwd"],
            "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp",
            "--setenv", "IPYTHONDIR", "/tmp/.ipython", "--setenv", "OPENBLAS_NUM_THREADS", "1",
            "--unsetenv", "JUPYTER_RUNTIME_DIR", "--unsetenv", ENV,
            # ipykernel would take the PID namespace for a dead parent; bwrap watches the parent.
            "--unsetenv", "JPY_PARENT_PID",
            "--", *argv]
    return cmd


def _set_limits(limits: dict[str, Any], cgroup: Path | None) -> None:
    """Runs in the child between fork and exec: everything the sandbox starts inherits it."""
    if cgroup is not None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb, limits["memory_mb"] * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size_mb"] * mb,
                                               limits["file_size_mb"] * mb))
    if cgroup is None:
        nproc = limits["processes"] + limits.get("already_running", 0)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _die_with(parent: int) -> None:
    """Be killed when `parent` dies, or exit now if it already has.

    PR_SET_PDEATHSIG is cleared in every forked child and fires only for deaths after it is set,
    so each link of the chain grading worker -> launcher -> bwrap -> kernel sets it for itself and
    then checks that its parent is still the one it expects: a parent that died first (during
    this interpreter's start-up, or between a fork and its exec) has left the child re-parented,
    and nothing would ever signal it. `parent` must be known from outside (passed in, or the
    forking process's own pid), not read with getppid() here: by then it may already be init."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


TEST_KILL = "PRIVACY_COURSE_SANDBOX_TEST_KILL"


def _test_kill(stage: str, grader_pid: int) -> None:
    """Test hook: kill the whole grading run (the worker's process group) at a named point of a
    kernel's start-up, the moments where a killed run could once leave a sandboxed process
    behind (tests/test_crash_safety.py). Inert unless the grading run's own environment sets
    the variable; learner code never sees it (the kernel's environment is an allow-list)."""
    if os.environ.get(TEST_KILL) == stage:
        try:
            os.killpg(os.getpgid(grader_pid), signal.SIGKILL)
        except OSError:
            pass


# Runs inside the sandbox as the kernel's first step, before ipykernel. bwrap's sandboxed child
# sets its own PR_SET_PDEATHSIG only after mounting the sandbox, so if bwrap dies during that
# set-up (its launcher was killed), the child is re-parented and never told; inside a new PID
# namespace it cannot see its parent either. The launcher holds the only write end of a pipe
# whose read end is passed in: end of file here means the launcher is gone, so exit at once.
# The death signal is already set by then, so a later death of bwrap still ends the kernel.
KERNEL_GUARD = """\
import os, select, sys
fd = int(sys.argv.pop(1))
if select.select([fd], [], [], 0)[0]:
    os._exit(1)
os.close(fd)
sys.path[0] = os.getcwd()
import runpy
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""


def main(argv: list[str] | None = None) -> int:
    """Kernel launcher: `python -m privacy_course.sandbox -f CONNECTION_FILE`."""
    argv = sys.argv[1:] if argv is None else argv
    limits = json.loads(os.environ[ENV])
    grader = int(limits["grader_pid"])
    _test_kill("launcher-start", grader)
    _die_with(grader)
    original = os.path.abspath(argv[argv.index("-f") + 1])
    with open(original, encoding="utf-8") as fh:
        connection = json.load(fh)
    # Only the grading worker's own socket folder is shared with the sandbox, never the folder
    # the connection file happens to be in (often /tmp itself).
    worker = Path(limits["scratch"]).parent
    sockets = os.path.dirname(str(connection.get("ip", "")))
    if connection.get("transport") != "ipc" or not Path(sockets).resolve().is_relative_to(worker):
        print("privacy_course.sandbox: the kernel must use ipc sockets in the grading worker's "
              "folder", file=sys.stderr)
        return 2
    cwd = os.getcwd()
    private = Path(tempfile.mkdtemp(prefix="submission-", dir=limits["scratch"]))
    shutil.copytree(cwd, private, dirs_exist_ok=True, symlinks=True)
    connection_file = os.path.join(sockets, "connection-" + os.path.basename(original))
    shutil.copyfile(original, connection_file)
    cgroup = _pids_cgroup(limits["processes"])
    limits = {**limits, "cwd": cwd, "already_running": _user_process_count()}
    guard_read, guard_write = os.pipe()  # the write end never leaves this process
    kernel = [sys.executable, "-c", KERNEL_GUARD, str(guard_read), "-f", connection_file,
              "--HistoryManager.hist_file=:memory:"]
    info_read, info_write = os.pipe()
    command = bwrap_command(str(private), sockets, limits, kernel)
    command[1:1] = ["--info-fd", str(info_write)]
    launcher = os.getpid()

    def in_child() -> None:  # between fork and exec of bwrap
        _test_kill("bwrap-exec", grader)
        _die_with(launcher)
        _set_limits(limits, cgroup)

    # bwrap gets a process group of its own: jupyter_client interrupts a kernel by signalling
    # the launcher's group, and SIGINT would end bwrap (and the kernel with it). The launcher
    # passes interrupts on to the kernel itself, which runs as PID 1 of its namespace.
    # The kernel's own console chatter (connection banners) is of no use to a facilitator.
    process = subprocess.Popen(command, pass_fds=(info_write, guard_read), process_group=0,
                               stdout=subprocess.DEVNULL, preexec_fn=in_child)
    os.close(info_write)
    os.close(guard_read)
    _test_kill("bwrap-started", grader)
    with os.fdopen(info_read) as info:
        kernel_pid = json.loads(info.read() or "{}").get("child-pid")

    def forward(signum: int, _frame: Any) -> None:
        if kernel_pid:
            try:
                os.kill(kernel_pid, signum)
            except OSError:
                pass

    signal.signal(signal.SIGINT, forward)
    try:
        return process.wait()
    finally:
        shutil.rmtree(private, ignore_errors=True)
        Path(connection_file).unlink(missing_ok=True)
        if cgroup is not None:
            _remove_cgroup(cgroup)


def _remove_cgroup(cgroup: Path) -> None:
    for pid in (cgroup / "cgroup.procs").read_text().split():
        try:
            os.kill(int(pid), 9)
        except OSError:
            pass
    for _ in range(50):
        try:
            cgroup.rmdir()
            return
        except OSError:
            import time

            time.sleep(0.1)


def check_available() -> None:
    """Raise SandboxUnavailable unless bubblewrap can create the namespaces here."""
    probe = [_bwrap(), "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
             "--proc", "/proc", "--dev", "/dev", "true"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap cannot create user namespaces on this machine "
            f"({result.stderr.strip() or result.returncode}). Grading will not run learners' "
            "code unisolated unless c.SandboxSettings.allow_unsandboxed = True in "
            "grader_config.py.")


def worker_setup(limits: dict[str, Any]) -> str:
    """Prepare a grading worker process: a private folder for kernel sockets and connection
    files, and a kernelspec named `python3` (the notebooks' kernel) that starts the sandbox.
    Returns the folder; the caller removes it when the worker ends."""
    folder = tempfile.mkdtemp(prefix="pc-grader-")
    sockets = os.path.join(folder, "run")
    spec = os.path.join(folder, "kernels", "python3")
    scratch = os.path.join(folder, "scratch")
    for path in (sockets, spec, scratch):
        os.makedirs(path)
    os.chmod(folder, 0o700)
    with open(os.path.join(spec, "kernel.json"), "w", encoding="utf-8") as fh:
        json.dump({"argv": [sys.executable, "-m", "privacy_course.sandbox", "-f",
                            "{connection_file}"],
                   "display_name": "Python 3 (grading sandbox)", "language": "python",
                   "interrupt_mode": "signal"}, fh)
    # The worker's pid tells each kernel launcher which parent to outlive (see _die_with).
    os.environ[ENV] = json.dumps({**limits, "scratch": scratch, "grader_pid": os.getpid()})
    os.environ["JUPYTER_PATH"] = folder + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_RUNTIME_DIR"] = sockets
    return folder


def _limited_execute_class() -> type:
    from nbgrader.preprocessors import Execute
    from traitlets import Integer

    class LimitedExecute(Execute):
        """nbgrader's Execute, keeping at most `output_kb` of output per cell (the rest is dropped
        as it arrives, so printing 100 MB cannot exhaust the grader's memory)."""

        output_kb = Integer(512).tag(config=True)

        def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
            budget = self.output_kb * 1024 - sum(len(json.dumps(o)) for o in outs)
            if any("[output limit" in str(o.get("data", "")) for o in outs):
                return None  # already cut: drop the rest
            incoming = len(json.dumps(msg.get("content", {})))
            if incoming <= budget:
                return super().output(outs, msg, display_id, cell_index)
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream" and budget > 0:
                # Keep the first part of an oversized stream (one message can hold 100 MB).
                msg = {**msg, "content": {**content, "text": content.get("text", "")[:budget]}}
                super().output(outs, msg, display_id, cell_index)
            from nbformat.v4 import new_output

            # A display, not a stream: streams are merged and then cut line by line.
            outs.append(new_output("display_data", data={"text/plain": (
                f"[output limit: more than {self.output_kb} KB; the rest was cut]")}))
            return None

    LimitedExecute.__qualname__ = "LimitedExecute"
    return LimitedExecute


def __getattr__(name: str) -> Any:
    # `LimitedExecute` is built on first use, not at import: this module is also the kernel
    # launcher (`python -m privacy_course.sandbox`), run once per graded notebook, and importing
    # nbgrader there cost several seconds per notebook (and per `privacy-course` command).
    if name == "LimitedExecute":
        cls = _limited_execute_class()
        globals()["LimitedExecute"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
