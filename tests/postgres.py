"""A throw-away PostgreSQL server on 127.0.0.1 for the gradebook tests (Debian's postgresql:
initdb + pg_ctl, run as the `postgres` user when the tests run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} was not found: install Debian's postgresql "
                           "package (.ci/run does)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL template ("...{cohort}") for a fresh server; stop it after."""
    as_root = os.geteuid() == 0
    base = tempfile.mkdtemp(prefix="pc-pg-")
    data = os.path.join(base, "data")
    port = _free_port()
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres")
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    subprocess.run(prefix + [_bin("initdb"), "-D", data, "-U", user, "--auth=trust",
                             "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run(prefix + [_bin("pg_ctl"), "-D", data, "-w", "-l", os.path.join(base, "log"),
                             "-o", f"-h 127.0.0.1 -p {port} -k {base}", "start"],
                   check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/privacy_{{cohort}}"
    finally:
        subprocess.run(prefix + [_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
