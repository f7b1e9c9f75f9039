"""The restricted kernel that runs a learner's notebook during grading.

nbgrader runs learners' code as the grading user, inside the course folder: without this, a
submission could read the gradebook (every learner's personal data), `source/` (the answer
keys) and other learners' work, or reach the network. Here each notebook's kernel is started by
`python -m privacy_course.grading.sandbox -f <connection file>` (a dedicated kernelspec, seen
only by grading workers), which:

- starts the kernel under bubblewrap with new user, PID, network, IPC and mount namespaces and
  an empty environment plus an allow-list (the grader's own may hold a hub token or a gradebook
  password): the only things it can see are read-only system and Python folders and one
  memory-backed /tmp of `write_quota_mb`, into which bwrap copies the submission's regular
  files (reached at the submission's own path, so relative paths work); no home folder, no
  course folder, no network (the kernel talks to nbgrader over Unix sockets, ZeroMQ's `ipc`
  transport, in a folder private to the grading worker);
- ties the kernel's life to its launcher's, and the launcher's to its grading worker's, so a
  killed grading run leaves nothing running (see `_die_with` and `KERNEL_GUARD`);
- applies kernel resource limits on CPU time, address space and file size, and bounds the number
  of processes (a pids cgroup when grading runs as root, which ignores RLIMIT_NPROC; otherwise
  RLIMIT_NPROC), all set in `SandboxSettings` in grader_config.py.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from privacy_course.errors import CourseError
from privacy_course.record import Flag, add_note, reset_notes

log = logging.getLogger(__name__)

ENV = "PRIVACY_COURSE_SANDBOX"


class SandboxUnavailable(CourseError, RuntimeError):
    """Isolation is not possible on this machine; the message says why and what to do."""


def _python_roots() -> list[str]:
    """Folders the kernel's Python needs, read-only: the interpreter's installation, the
    environment's site-packages and this package (for an editable install, its source)."""
    paths = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"],
             str(Path(__file__).resolve().parents[1])}  # the privacy_course package itself
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


# What the kernel's environment may hold: the grader's own environment can carry secrets (a hub
# token, a gradebook password in PRIVACY_COURSE_DB_URL) and learner code would print them into
# its feedback. Everything else is dropped; these pass on only if set.
ENV_ALLOWED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH",
               "JUPYTER_PLATFORM_DIRS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
WORK = "/tmp/submission"


def bwrap_command(files: list[tuple[int, str]], folders: list[str], sockets: str,
                  limits: dict[str, Any], argv: list[str]) -> list[str]:
    """bubblewrap's arguments for one kernel. `files` are (open descriptor, path relative to the
    submission) and `folders` the submission's sub-folders: bwrap copies them into the sandbox,
    so the kernel never touches the grader's disk. Everything the kernel may write (its working
    copy and /tmp; /dev/shm is read-only) lives on one memory-backed file system of
    `write_quota_mb`: a cell that writes more gets "No space left on device", whatever it writes
    to and however many workers run at once. The working copy is reached at the submission's
    own path (a link to it), so relative paths behave as they did for the learner."""
    cwd = limits["cwd"]
    cmd = [_bwrap(), "--unshare-all", "--as-pid-1", "--clearenv",
           "--size", str(limits["write_quota_mb"] * 1024 * 1024), "--tmpfs", "/tmp",
           "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
           # /dev (and /dev/shm in it) would be a second, unlimited place to write: read-only.
           # The devices in it still work; Python's multiprocessing needs /dev/shm, grading not.
           "--remount-ro", "/dev"]
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
    cmd += ["--dir", WORK]
    for folder in folders:
        cmd += ["--dir", f"{WORK}/{folder}"]
    for fd, name in files:
        cmd += ["--file", str(fd), f"{WORK}/{name}"]
    cmd += ["--symlink", WORK, cwd, "--bind", sockets, sockets, "--chdir", cwd]
    for name in ENV_ALLOWED:
        if name in os.environ:
            cmd += ["--setenv", name, os.environ[name]]
    cmd += ["--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp",
            "--setenv", "IPYTHONDIR", "/tmp/.ipython", "--setenv", "OPENBLAS_NUM_THREADS", "1",
            "--", *argv]
    return cmd


def open_submission(folder: Path, max_files: int) -> tuple[list[tuple[int, str]], list[str]]:
    """Open the regular files of the kernel's working folder for bwrap to copy in, never
    following a link (O_NOFOLLOW, and no descent into linked folders): the folder was checked
    before grading (privacy_course.grading.intake), this is the last line should anything slip
    in."""
    files: list[tuple[int, str]] = []
    folders: list[str] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        base = Path(current).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not (Path(current) / d).is_symlink())
        folders += [str(base / d) for d in dirs]
        for name in sorted(names):
            if len(files) >= max_files:
                return files, folders
            try:
                fd = os.open(Path(current) / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue  # a link, or gone
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                continue
            files.append((fd, str(base / name)))
    return files, folders


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

    The launcher's link to its grading worker (the kernel's to the launcher is the guard's pipe,
    see KERNEL_GUARD). PR_SET_PDEATHSIG fires only for deaths after it is set, so the launcher
    then checks that its parent is still the worker it was given: a worker that died during this
    interpreter's start-up has left it re-parented, and nothing would ever signal it. `parent`
    comes from outside, not from getppid() here: by then it may already be init's pid."""
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


# The kernel's first step, inside the sandbox, before ipykernel: it lives exactly as long as its
# launcher. The launcher holds the only write end of a pipe whose read end is passed in; end of
# file means the launcher is gone, and then the kernel (PID 1 of its namespace, so everything in
# the sandbox with it) exits: at once if the launcher died while bwrap was still setting up, else
# from a watching thread. bwrap's own --die-with-parent is not used: it would kill bwrap during
# that set-up, and bwrap's child then waits for ever for a go-ahead that never comes (its death
# signal is set only later, and a PID namespace hides its parent from it).
KERNEL_GUARD = """\
import os, select, sys, threading
watch, info = int(sys.argv.pop(1)), int(sys.argv.pop(1))
os.close(info)
if select.select([watch], [], [], 0)[0]:
    os._exit(1)
def _watch():
    try:
        os.read(watch, 1)
    finally:
        os._exit(1)
threading.Thread(target=_watch, name="launcher-watch", daemon=True).start()
sys.path[0] = os.getcwd()
import runpy
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""


def main(argv: list[str] | None = None) -> int:
    """Kernel launcher: `python -m privacy_course.grading.sandbox -f CONNECTION_FILE`."""
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
        print("privacy_course.grading.sandbox: the kernel must use ipc sockets in the grading "
              "worker's folder", file=sys.stderr)
        return 2
    cwd = os.getcwd()
    files, folders = open_submission(Path(cwd), limits["submission_files"])
    connection_file = os.path.join(sockets, "connection-" + os.path.basename(original))
    shutil.copyfile(original, connection_file)
    cgroup = _pids_cgroup(limits["processes"])
    limits = {**limits, "cwd": cwd, "already_running": _user_process_count()}
    guard_read, guard_write = os.pipe()  # the write end never leaves this process
    info_read, info_write = os.pipe()
    # bwrap's child holds a read end of the info pipe too, so that bwrap's write of the kernel's
    # pid never meets a closed pipe (SIGPIPE) if this launcher is already gone; the guard closes it.
    kernel = [sys.executable, "-c", KERNEL_GUARD, str(guard_read), str(info_read),
              "-f", connection_file, "--HistoryManager.hist_file=:memory:"]
    command = bwrap_command(files, folders, sockets, limits, kernel)
    command[1:1] = ["--info-fd", str(info_write)]

    def in_child() -> None:  # between fork and exec of bwrap
        _test_kill("bwrap-exec", grader)
        _set_limits(limits, cgroup)

    # bwrap gets a process group of its own: jupyter_client interrupts a kernel by signalling
    # the launcher's group, and SIGINT would end bwrap (and the kernel with it). The launcher
    # passes interrupts on to the kernel itself, which runs as PID 1 of its namespace.
    # The kernel's own console chatter (connection banners) is of no use to a facilitator.
    passed = (info_write, guard_read, *(fd for fd, _ in files))
    os.set_inheritable(info_read, True)
    process = subprocess.Popen(command, pass_fds=(*passed, info_read), process_group=0,
                               stdout=subprocess.DEVNULL, preexec_fn=in_child)
    for fd in passed:
        os.close(fd)
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
        json.dump({"argv": [sys.executable, "-m", "privacy_course.grading.sandbox", "-f",
                            "{connection_file}"],
                   "display_name": "Python 3 (grading sandbox)", "language": "python",
                   "interrupt_mode": "signal"}, fh)
    # The worker's pid tells each kernel launcher which parent to outlive (see _die_with).
    os.environ[ENV] = json.dumps({**limits, "scratch": scratch, "grader_pid": os.getpid()})
    os.environ["JUPYTER_PATH"] = folder + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_RUNTIME_DIR"] = sockets
    return folder


# errno of an OSError a limit causes -> the flag for that limit
_LIMIT_ERRNOS = {errno.EFBIG: "file-size-limit", errno.ENOSPC: "write-quota",
                 errno.EDQUOT: "write-quota", errno.EAGAIN: "process-limit"}
_ERRNO = re.compile(r"^\[Errno (\d+)\]")


def limit_flag(ename: str, evalue: str) -> Flag | None:
    """The limit a cell's error shows it hit, by the exception's name (and, for OSError and its
    kin, its errno), or None when the error is the learner's own."""
    if ename == "CellTimeoutError":
        return Flag("time-limit")
    if ename == "MemoryError":
        return Flag("memory-limit")
    match = _ERRNO.match(evalue or "")
    if ename in ("OSError", "BlockingIOError", "IOError") and match:
        code = _LIMIT_ERRNOS.get(int(match.group(1)))
        return Flag(code) if code else None
    return None


def _unverifiable(exc: ValueError) -> bool:
    return str(exc).startswith(("Invalid Signature", "Duplicate Signature", "Unsigned Message"))


def _skip_unverifiable(channel: Any) -> None:
    """Make a kernel channel drop messages whose signature does not verify, instead of
    stopping the whole grading with a ValueError. Learner code can fork the kernel; its
    copies share the kernel's sockets, and a fork bomb that exhausts the process limit has
    been seen to garble a message. A dropped message costs at most that cell's output (or,
    for a lost reply, the cell's time limit); the grade is computed from the saved answers
    outside the kernel either way."""
    import inspect

    original = channel.get_msg
    if inspect.iscoroutinefunction(original):
        async def get_msg(*args: Any, **kwargs: Any) -> Any:
            while True:
                try:
                    return await original(*args, **kwargs)
                except ValueError as exc:
                    if not _unverifiable(exc):
                        raise
                    log.warning("dropped a kernel message that failed its signature check")
    else:
        def get_msg(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            while True:
                try:
                    return original(*args, **kwargs)
                except ValueError as exc:
                    if not _unverifiable(exc):
                        raise
                    log.warning("dropped a kernel message that failed its signature check")
    channel.get_msg = get_msg


def _limited_execute_class() -> type:
    from nbclient.util import run_sync
    from nbgrader.preprocessors import Execute
    from traitlets import Integer

    class LimitedExecute(Execute):
        """nbgrader's Execute, keeping at most `output_kb` of output per cell (the rest is dropped
        as it arrives, so printing 100 MB cannot exhaust the grader's memory), and noting in
        the graded notebook each limit a cell hit (privacy_course.record's notes channel)."""

        output_kb = Integer(512).tag(config=True)

        def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
            reset_notes(nb)  # whatever the learner's file carried under the key is dropped
            self._graded_nb = nb
            return super().preprocess(nb, resources, km)

        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.iopub_channel, kc.shell_channel):
                _skip_unverifiable(channel)
            return kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

        def on_cell_executed(self, **kwargs: Any) -> None:
            super().on_cell_executed(**kwargs)
            content = kwargs["execute_reply"].get("content", {})
            if content.get("status") == "error":
                flag = limit_flag(content.get("ename", ""), content.get("evalue", ""))
                if flag is not None:
                    add_note(self._graded_nb, flag)

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
            add_note(self._graded_nb, Flag("output-cut"))
            return None

    LimitedExecute.__qualname__ = "LimitedExecute"
    return LimitedExecute


def __getattr__(name: str) -> Any:
    # `LimitedExecute` is built on first use, not at import: this module is also the kernel
    # launcher (`python -m privacy_course.grading.sandbox`), run once per graded notebook, and
    # importing nbgrader there cost several seconds per notebook (and per `privacy-course` command).
    if name == "LimitedExecute":
        cls = _limited_execute_class()
        globals()["LimitedExecute"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
