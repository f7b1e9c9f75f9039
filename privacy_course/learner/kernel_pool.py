"""Spare kernels for module pages, so that a page opens without waiting for a kernel to start.

A module page (Voila, running as an extension of the learner's own Jupyter server) starts a new
kernel each time it is opened and runs the notebook in it. Starting a kernel and importing the
course's libraries (ipywidgets, pandas, the course package) is most of the time before the first
control works. This kernel manager keeps `spare_kernels` kernels started and warmed (the libraries
imported, nothing else run) and hands one to the next page, moved to the page's folder and given
the page's environment; then it starts another in the background.

Why not Voila's own pre-heated kernels: they exist only in standalone Voila (its handler asks the
kernel manager for `get_pool_size`, which a Jupyter server's kernel manager lacks), and they
pre-run the whole notebook, so a page would show the answers as they were when its kernel was
warmed, not as the learner left them in another tab. A spare here runs nothing of the module:
every cell, including reading the learner's saved answers, runs when the page is opened.

Spares are for pages only (Voila asks with `VOILA_PREHEAT` in the kernel's environment);
JupyterLab's notebooks get a kernel started for them as before. Spares are hidden from the
kernel list that JupyterLab's "Running" panel shows, and are shut down with the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.ioloop import IOLoop
from traitlets import Float, Integer, List, Unicode, default

#: Imported ahead in a spare, beside every module of `privacy_course.learner` (what a page runs).
WARM_IMPORTS = ["ipywidgets", "pandas", "mistune"]

#: The environment variable that sets `spare_kernels` where no configuration does.
SPARES_VARIABLE = "PRIVACY_COURSE_SPARE_KERNELS"

#: Voila's handler marks a page's kernel with this variable in the kernel's environment.
PAGE_MARKER = "VOILA_PREHEAT"


class PooledKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, with spare warmed kernels for module pages."""

    spare_kernels = Integer(config=True, help=(
        "How many warmed kernels to keep ready for module pages (0 turns spares off). Each "
        "spare holds about 170 MiB (an idle kernel with the course's libraries loaded). "
        f"Default: ${SPARES_VARIABLE}, else 1; the hub's learner role sets 0 (deploy/README.md)."))
    spare_kernel_name = Unicode("python3", config=True,
                                help="The kernel spec that spares are started from.")
    warm_imports = List(Unicode(), WARM_IMPORTS, config=True, help=(
        "Modules a spare imports before it is handed out, beside every module of "
        "privacy_course.learner."))
    refill_delay = Float(4.0, config=True, help=(
        "Seconds to wait after handing out a spare before starting the next one, so that the "
        "new kernel does not compete with the page that is running its cells."))

    @default("spare_kernels")
    def _spare_kernels_default(self) -> int:
        value = os.environ.get(SPARES_VARIABLE, "1")
        try:
            return max(0, int(value))
        except ValueError:
            self.log.warning("%s=%r is not a number of kernels; using 1", SPARES_VARIABLE, value)
            return 1

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._spares: list[str] = []
        # Each spare keeps the client that warmed it connected until it is handed over: a new
        # client's connection and readiness check took 0.2 s of the page's start.
        self._clients: dict[str, Any] = {}
        self._filling: asyncio.Task[None] | None = None
        self._closing = False
        # Fill once the server's event loop runs (the server builds its kernel manager after
        # choosing that loop and before starting it).
        IOLoop.current().add_callback(self._fill_later, 0.0)

    # -- handing out -----------------------------------------------------------------------

    # jupyter_server itself overrides these as coroutines against jupyter_client's synchronous
    # signatures (jupyter_server issue 1165); the ignores say the same here.
    async def start_kernel(  # type: ignore[override]
            self, *, kernel_id: str | None = None, path: Any = None, **kwargs: Any) -> str:
        """A spare for a module page when one is ready; otherwise a kernel started as usual."""
        env = kwargs.get("env") or {}
        wants_page = (kernel_id is None and PAGE_MARKER in env and self.spare_kernels > 0
                      and kwargs.get("kernel_name") in (None, self.spare_kernel_name))
        if wants_page:
            spare = await self._take_spare(path, env)
            self._fill_later(self.refill_delay)
            if spare is not None:
                return spare
        return await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)

    async def _take_spare(self, path: Any, env: dict[str, str]) -> str | None:
        began = time.perf_counter()
        while self._spares:
            kernel_id = self._spares.pop(0)
            if kernel_id not in self:
                continue
            try:
                await self._run(kernel_id, _handover_code(
                    self.cwd_for_path(path) if path is not None else self.root_dir,
                    {k: v for k, v in env.items() if os.environ.get(k) != v}))
            except Exception as error:  # a spare that cannot be moved is not used
                self.log.warning("Spare kernel %s could not be handed over: %s", kernel_id, error)
                await self._discard(kernel_id)
                continue
            finally:
                self._disconnect(kernel_id)
            kernel: Any = self.get_kernel(kernel_id)
            kernel.last_activity = _now()
            self.log.info("Module page uses spare kernel %s (handed over in %.2f s)", kernel_id,
                          time.perf_counter() - began)
            return kernel_id
        return None

    # -- filling ---------------------------------------------------------------------------

    def _fill_later(self, delay: float) -> None:
        if self._closing or self.spare_kernels <= 0:
            return
        if self._filling is None or self._filling.done():
            self._filling = asyncio.ensure_future(self._fill(delay))

    async def _fill(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while not self._closing and len(self._spares) < self.spare_kernels:
            env = {**os.environ, PAGE_MARKER: "False"}
            kernel_id: str | None = None
            try:
                kernel_id = await super().start_kernel(kernel_name=self.spare_kernel_name,
                                                       env=env)
                await self._run(kernel_id, _warming_code(self.warm_imports))
            except Exception as error:
                self.log.warning("A spare kernel for module pages did not start: %s", error)
                if kernel_id is not None:
                    await self._discard(kernel_id)
                return
            if self._closing:
                await self._discard(kernel_id)
                return
            self._spares.append(kernel_id)
            self.log.info("A warmed kernel is ready for the next module page: %s", kernel_id)

    async def _run(self, kernel_id: str, code: str) -> None:
        """Run code silently in a spare, through its client (connected on first use); raise
        if it fails."""
        client: Any = self._clients.get(kernel_id)  # an AsyncKernelClient
        if client is None:
            client = self._clients[kernel_id] = self.get_kernel(kernel_id).client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(code, silent=True, store_history=False,
                                                 timeout=60, output_hook=lambda _msg: None)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(reply["content"].get("evalue") or "the code did not run")

    def _disconnect(self, kernel_id: str) -> None:
        client = self._clients.pop(kernel_id, None)
        if client is not None:
            client.stop_channels()

    async def _discard(self, kernel_id: str) -> None:
        self._disconnect(kernel_id)
        if kernel_id in self:
            await super().shutdown_kernel(kernel_id, now=True)

    # -- what others see -------------------------------------------------------------------

    def list_kernels(self) -> list[dict[str, Any]]:
        """The kernels in use: spares are not shown (nobody opened them)."""
        return [k for k in super().list_kernels() if k["id"] not in self._spares]

    async def shutdown_all(self, now: bool = False) -> None:  # type: ignore[override]
        """Shut down every kernel, spares and a spare still starting included."""
        self._closing = True
        if self._filling is not None and not self._filling.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._filling), timeout=30)
            except Exception:
                pass
        for kernel_id in list(self._clients):
            self._disconnect(kernel_id)
        self._spares.clear()
        await super().shutdown_all(now=now)


def _warming_code(names: list[str]) -> str:
    """Import what a page will: the named libraries and the whole learner package, found by
    walking it (so a module added later is warmed too). A module that fails to import is
    skipped: the page then imports it itself, and says what is wrong if it must."""
    return (f"def _warm(names={json.dumps(names)}):\n"
            "    import importlib, pkgutil\n"
            "    import privacy_course.learner as learner\n"
            "    found = pkgutil.walk_packages(learner.__path__, 'privacy_course.learner.')\n"
            "    for name in [*names, *(m.name for m in found)]:\n"
            "        if name.endswith('.kernel_pool'):\n"
            "            continue\n"
            "        try:\n"
            "            importlib.import_module(name)\n"
            "        except Exception:\n"
            "            pass\n"
            "_warm()\n"
            "del _warm\n")


def _handover_code(cwd: str, env: dict[str, str]) -> str:
    """The code that makes a spare look like a kernel started for this page: its folder
    (where the notebook's own files are found) and the variables Voila gives a page's kernel."""
    return (f"import os as _os\n"
            f"_os.chdir({json.dumps(cwd)})\n"
            f"_os.environ.update({json.dumps(env)})\n"
            f"del _os\n")


def _now() -> Any:
    from jupyter_server._tz import utcnow

    return utcnow()
