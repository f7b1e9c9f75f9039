"""The learner's pages: a Jupyter server extension that serves the course home.

The home lists the eight modules with their time and state and links each to its page, which
Voila renders from the module notebook with the course's own Voila template (no code, test
cells run but hidden, a focus ring, no CDN). Being a server extension, the home runs in the
learner's own Jupyter server, on a laptop or inside a hub's single-user server alike, and sees
exactly what the learner's account sees.

Enable it with `jpserver_extensions = {"privacy_course.learner.pages": true}`; the learner's
Jupyter configuration written by `privacy-course start` (and a hub image's role folders) does.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from privacy_course.learner.home import course_states, read_due

HOME_PATH = "privacy-course/"
VOILA_TEMPLATE = "privacy-course"


def templates_folder() -> Path:
    """The package's templates: the home page's, and a Jupyter data folder holding the Voila
    template (put on JUPYTER_PATH so that Voila finds it)."""
    return Path(str(resources.files("privacy_course.learner") / "templates"))


def voila_settings() -> dict[str, Any]:
    """The server configuration the module pages need: Voila's, and the kernel manager that
    keeps a warmed kernel ready for the next page (`learner/kernel_pool.py`)."""
    return {
        "ServerApp": {
            "kernel_manager_class": "privacy_course.learner.kernel_pool.PooledKernelManager",
            # traitlets sets the app's logger to DEBUG and filters at the handler, so every
            # debug line (nbclient logs several per kernel message while a page runs) was
            # formatted and thrown away: a tenth of a second per page. INFO is what is shown.
            "logging_config": {"loggers": {"ServerApp": {"level": "INFO"},
                                           "LabApp": {"level": "INFO"}}},
        },
        "VoilaConfiguration": {
            "template": VOILA_TEMPLATE,
            "strip_sources": True,
            "show_tracebacks": False,
            # A page needs only the widget manager. The other Lab extensions installed beside
            # the course mean nothing on a page and each is a federated bundle the browser
            # loads and runs before the first control works (nbgrader's also logs errors
            # there). Voila's allowlist drops its own widget manager in server-extension mode,
            # so the unneeded ones are named instead.
            "extension_denylist": ["@jupyter/nbgrader", "jupyterlab-jupytext",
                                   "@jupyter-notebook/lab-extension", "jupyterlab_pygments"],
        },
    }


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_folder())),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True)


def nbgrader_config(root: Path) -> Any:
    """The learner's nbgrader configuration, found the way nbgrader's Assignments panel finds
    it (the Jupyter configuration folders, then the server's root folder)."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader

    app = NbGrader()
    app.config_file_paths.append([str(root), *jupyter_config_path()])
    app.load_config_file()
    return app.config


def submitted_modules(config: Any) -> dict[str, str]:
    """{module id: time of the latest submission} from nbgrader's record of this learner's own
    submissions (`nbgrader list --cached`)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    config.ExchangeList.cached = True
    lister = ExchangeFactory(config=config).List(
        coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
        config=config)
    found: dict[str, str] = {}
    for assignment in lister.start():
        stamps = [s.get("timestamp", "") for s in assignment.get("submissions", [])]
        if stamps:
            found[assignment["assignment_id"]] = max(stamps)
    return found


def course_folder(root: Path, course_id: str) -> Path:
    """The folder that holds the modules: `<root>/<course id>/` (nbgrader's fetch layout with
    `path_includes_course`), or the root itself when the modules sit there."""
    nested = root / course_id if course_id else None
    if nested is not None and nested.is_dir():
        return nested
    if course_states(root):
        return root
    holders = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
               and course_states(p)]
    return holders[0] if len(holders) == 1 else root


def render_home(root: Path, base_url: str, title: str = "Student Data Privacy for District "
                "Leaders") -> str:
    """The course home page as HTML."""
    try:
        config = nbgrader_config(root)
        course_id = str(config.CourseDirectory.get("course_id", "")) or ""
    except Exception:  # a learner's page must render even with an unusable configuration
        config, course_id = None, ""
    submitted: dict[str, str] = {}
    if config is not None and course_id:
        try:
            submitted = submitted_modules(config)
        except Exception:  # no exchange yet: nothing submitted
            submitted = {}
    folder = course_folder(root, course_id)
    outbound = (Path(config.Exchange.root) / course_id / "outbound"
                if config is not None and course_id and config.Exchange.get("root") else None)
    rows = []
    for row in course_states(folder, submitted):
        if outbound is not None:
            row.due = read_due(outbound / row.module_id)
        relative = row.notebook.relative_to(root).as_posix()
        rows.append({
            "row": row,
            "page_url": f"{base_url}voila/render/{quote(relative)}",
            "lab_url": f"{base_url}lab/tree/{quote(relative)}",
            # Feedback is read on the module page, as sentences (nbgrader's own page is the
            # graded notebook, code and all).
            "feedback_url": (f"{base_url}voila/render/{quote(relative)}"
                             if row.feedback else None),
            "due": (f"{row.due.day} {row.due:%B %Y}, {row.due:%H:%M} UTC" if row.due else None),
        })
    cohort = course_id if course_id and course_id != "privacy-course" else None
    return template_environment().get_template("home.html.j2").render(
        title=title, rows=rows, cohort=cohort, base_url=base_url,
        lab_url=f"{base_url}lab/tree/{quote(folder.relative_to(root).as_posix())}".rstrip("/."))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "privacy_course.learner.pages"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.utils import url_path_join
    from tornado import web

    root = Path(os.path.expanduser(serverapp.root_dir)).resolve()
    base_url = serverapp.base_url

    class HomeHandler(JupyterHandler):
        """GET the course home (signed-in users only, like every page of the server)."""

        @web.authenticated
        def get(self) -> None:
            self.set_header("Cache-Control", "no-store")
            self.finish(render_home(root, base_url))

    pattern = url_path_join(base_url, HOME_PATH.rstrip("/")) + "/?"
    serverapp.web_app.add_handlers(".*$", [(pattern, HomeHandler)])
    # Voila's pages would fetch MathJax from a CDN (its default), which a district network may
    # block and which would typeset dollar amounts in the prose ("$5,000 ... $400") as math.
    # The course has no formulas: "null" is Voila's own value for "no MathJax".
    serverapp.web_app.settings["mathjax_url"] = "null"
    serverapp.web_app.settings["mathjax_config"] = "null"
    share_compiled_page_templates()
    serverapp.log.info("privacy-course: course home at %s", url_path_join(base_url, HOME_PATH))


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled Jinja templates kept in memory, by template; Jinja compares each template's
    source checksum before using them, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self._store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_PAGE_TEMPLATES = _CompiledTemplates()


def share_compiled_page_templates() -> None:
    """Voila builds a new Jinja environment for every page it serves, and so parsed and compiled
    its page templates again each time (about 0.2 s of each page here). Its environments are
    made by `VoilaExporter._create_environment`; this gives each the one shared cache above.
    Only Voila's exporters get it: they all compile in Jinja's async mode, which the cache's key
    (the template's name and file) does not tell apart."""
    from voila.exporter import VoilaExporter

    create = VoilaExporter._create_environment
    if getattr(create, "shares_compiled_templates", False):
        return

    def create_with_cache(self: Any) -> jinja2.Environment:
        environment = create(self)
        environment.bytecode_cache = _PAGE_TEMPLATES
        return environment

    create_with_cache.shares_compiled_templates = True  # type: ignore[attr-defined]
    VoilaExporter._create_environment = create_with_cache  # type: ignore[method-assign]


# jupyter_server looks for these names without the underscore in older releases.
load_jupyter_server_extension = _load_jupyter_server_extension
