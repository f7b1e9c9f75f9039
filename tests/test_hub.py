"""A real JupyterHub on 127.0.0.1 with real Unix users: one facilitator, two learners.

The whole cycle goes through the hub's REST API and each user's own server: the facilitator's
kernel runs `privacy-course` (cohorts, release, collect, grade, report), the learners fetch and
submit with nbgrader's Assignments endpoints and complete m01 through the widgets in their own
kernels. Checks: the completion table, that learners cannot read each other's work or the
gradebook, cannot fetch a cohort they are not in (hub groups + nbgrader's JupyterHub auth
plugin), and have no instructor tools. Users, processes and files are removed afterwards."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy_course.grading.intake import refusals
from privacy_course.start import write_lab_config

from .conftest import ROOT, copy_course
from .learner import LEARNER_ACTIONS, answer_key

pytestmark = [pytest.mark.slow, pytest.mark.hub]
MODULE = "m01-making-the-case"
FACILITATOR, ANN, BEN = "pcfac", "pcann", "pcben"
USERS = (FACILITATOR, ANN, BEN)
SYSTEM_PYTHON = "/usr/bin/python3.11"  # other users cannot run a Python under /root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


class Hub:
    def __init__(self, base: Path, port: int, token: str) -> None:
        self.base, self.url, self.token = base, f"http://127.0.0.1:{port}", token

    def api(self, method: str, path: str, data: dict | None = None) -> tuple[int, object]:
        request = urllib.request.Request(
            self.url + path, method=method,
            data=None if data is None else json.dumps(data).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                body = response.read().decode()
                return response.status, (json.loads(body) if body.strip().startswith(("{", "["))
                                         else body)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def spawn(self, user: str) -> None:
        self.api("POST", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, info = self.api("GET", f"/hub/api/users/{user}")
            servers = info.get("servers", {}) if isinstance(info, dict) else {}
            if servers.get("", {}).get("ready"):
                return
            time.sleep(1)
        raise AssertionError(f"{user}'s server did not start: {info}")

    def nbgrader(self, user: str, action: str, **params: str) -> dict:
        """nbgrader's Assignments endpoints of a user's own server (what the Lab's tab calls)."""
        status, body = self.api("POST", f"/user/{user}/assignments/{action}?"
                                + "&".join(f"{k}={v}" for k, v in params.items()))
        assert status == 200, body
        return body if isinstance(body, dict) else json.loads(body)

    def execute(self, user: str, code: str, path: str = "") -> str:
        """Run `code` in a new kernel of the user's server (in folder `path`); return stdout."""
        import websocket

        status, kernel = self.api("POST", f"/user/{user}/api/kernels",
                                  {"name": "python3", "path": path})
        assert status in (200, 201), kernel
        ws = websocket.create_connection(
            self.url.replace("http", "ws") + f"/user/{user}/api/kernels/{kernel['id']}/channels",
            header=[f"Authorization: token {self.token}"], timeout=300)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False}}))
        out, error = [], None
        try:
            while True:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    error = "\n".join(msg["content"]["traceback"])
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
        finally:
            ws.close()
            self.api("DELETE", f"/user/{user}/api/kernels/{kernel['id']}")
        assert error is None, error
        return "".join(out)


def _shared_env(base: Path) -> Path:
    venv = base / "venv"
    run(SYSTEM_PYTHON, "-m", "venv", str(venv))
    run(str(venv / "bin" / "pip"), "install", "--quiet", str(ROOT), "jupyterhub")
    return venv


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    if os.geteuid() != 0 or not Path(SYSTEM_PYTHON).exists() or not shutil.which("npm"):
        pytest.fail("the hub test needs root (to create users), /usr/bin/python3.11 and npm")
    base = Path(tempfile.mkdtemp(prefix="pc-hub-"))
    base.chmod(0o755)
    try:
        for user in USERS:
            if subprocess.run(["id", user], capture_output=True).returncode != 0:
                run("useradd", "-m", "-s", "/bin/bash", user)
            # Debian makes homes world-readable; a course hub must not (deploy/README.md).
            Path(pwd.getpwnam(user).pw_dir).chmod(0o700)
        venv = _shared_env(base)
        run("npm", "install", "--silent", "--prefix", str(base / "chp"),
            "configurable-http-proxy@5")
        course = copy_course(base / "course", [MODULE])
        exchange = base / "exchange"
        exchange.mkdir(mode=0o777)
        exchange.chmod(0o1777)  # as deploy/ makes it: sticky, so no one replaces a cohort folder
        (course / "grader_config.py").write_text(
            (course / "grader_config.py").read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n")
        (course / "roster-spring.csv").write_text(
            "id,first_name,last_name,email\n"
            f"{ANN},Ann,Avery,ann@example.org\n{BEN},Ben,Bell,ben@example.org\n")
        (course / "roster-autumn.csv").write_text(
            f"id,first_name,last_name,email\n{ANN},Ann,Avery,ann@example.org\n")
        fac = pwd.getpwnam(FACILITATOR)
        for path in [course, *course.rglob("*")]:
            os.chown(path, fac.pw_uid, fac.pw_gid)
        course.chmod(0o700)  # the gradebook and source/ are the facilitator's alone
        for role in ("learner", "facilitator"):
            config = base / "config" / role
            write_lab_config(config, facilitator=role == "facilitator")
            (config / "nbgrader_config.py").write_text(
                "c = get_config()  # noqa\n"
                f"c.Exchange.root = {str(exchange)!r}\n"
                "c.Exchange.path_includes_course = True\n"
                "c.ExchangeFactory.submit = 'privacy_course.grading.intake.PrivateSubmit'\n"
                "c.Authenticator.plugin_class = 'nbgrader.auth.JupyterHubAuthPlugin'\n")
            for path in [config, *config.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
        port, token = free_port(), secrets.token_hex(16)
        (base / "jupyterhub_config.py").write_text(f"""
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(base / 'chp/node_modules/.bin/configurable-http-proxy')!r}]
c.JupyterHub.db_url = "sqlite:///{base}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/cookie_secret"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {secrets.token_hex(12)!r}
c.Authenticator.allowed_users = {set(USERS)!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{str(venv / 'bin/jupyterhub-singleuser')!r}]
c.Spawner.default_url = "/privacy-course/"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.server_token_scopes = ["access:servers!server", "users:activity!user",
                                 "read:users!user", "read:users:groups!user"]
c.JupyterHub.load_groups = {{
    "nbgrader-spring": {{"users": [{ANN!r}, {BEN!r}]}},
    "nbgrader-autumn": {{"users": [{ANN!r}]}},
    "formgrade-spring": {{"users": [{FACILITATOR!r}]}},
    "formgrade-autumn": {{"users": [{FACILITATOR!r}]}},
}}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test", "services": ["course-test"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "admin:groups"]}}]

def role(spawner):
    facilitator = spawner.user.name == {FACILITATOR!r}
    spawner.environment["JUPYTER_CONFIG_DIR"] = (
        {str(base / 'config')!r} + ("/facilitator" if facilitator else "/learner"))
    spawner.environment["PATH"] = {str(venv / 'bin')!r} + ":/usr/bin:/bin"

c.Spawner.pre_spawn_hook = role
""")
        hub_process = subprocess.Popen(
            [str(venv / "bin" / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")],
            cwd=base, stdout=open(base / "hub.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        the_hub = Hub(base, port, token)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if the_hub.api("GET", "/hub/api/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError((base / "hub.log").read_text()[-3000:])
        the_hub.course, the_hub.exchange, the_hub.venv = course, exchange, venv
        try:
            for user in USERS:
                the_hub.spawn(user)
            yield the_hub
        finally:
            for user in USERS:
                the_hub.api("DELETE", f"/hub/api/users/{user}/server")
            os.killpg(hub_process.pid, 15)
            hub_process.wait(timeout=60)
    finally:
        for user in USERS:
            subprocess.run(["pkill", "-u", user], capture_output=True)
            subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def facilitator_runs(hub: Hub, *args: str) -> str:
    code = ("import subprocess\n"
            f"r = subprocess.run({[str(hub.venv / 'bin/privacy-course'), *args]!r}, "
            f"cwd={str(hub.course)!r}, capture_output=True, text=True)\n"
            "print(r.stdout); print('EXIT', r.returncode); print(r.stderr[-2000:])")
    out = hub.execute(FACILITATOR, code)
    assert "EXIT 0" in out or args[0] == "grade", out
    return out


def test_whole_cycle_on_a_real_hub(hub: Hub):
    facilitator_runs(hub, "cohort", "create", "spring", "--roster", "roster-spring.csv")
    facilitator_runs(hub, "cohort", "create", "autumn", "--roster", "roster-autumn.csv")
    facilitator_runs(hub, "release", MODULE, "--cohort", "spring")
    facilitator_runs(hub, "release", MODULE, "--cohort", "autumn")

    for learner in (ANN, BEN):
        # The endpoint answers with the learner's assignment list (nbgrader's Assignments tab).
        listing = hub.nbgrader(learner, "fetch", course_id="spring", assignment_id=MODULE)
        assert any(a["status"] == "fetched" and a["assignment_id"] == MODULE
                   for a in listing["value"]), listing
    # Ben is not in the autumn cohort: the hub's groups keep him out of it.
    refused = hub.nbgrader(BEN, "fetch", course_id="autumn", assignment_id=MODULE)
    assert not any(a["course_id"] == "autumn" for a in refused["value"]), refused
    assert "False" in hub.execute(BEN, "import os\nprint(os.path.exists('autumn'))")

    # Ann completes the module through the widgets in her own kernel; Ben hands in a blank one.
    key = answer_key(ROOT / "source" / MODULE / f"{MODULE}.ipynb")
    folder = f"spring/{MODULE}"
    hub.execute(ANN, "import nbformat\n"
                f"nb = nbformat.read('{MODULE}.ipynb', as_version=4)\n"
                "for cell in nb.cells:\n"
                "    if cell.cell_type == 'code':\n"
                "        get_ipython().run_cell(cell.source)\n"
                + LEARNER_ACTIONS
                + f"\n_pc_learner(course, {key!r}, 'Our district names a privacy lead.', "
                "True, True)\nprint('answers', len(course.store.data['answers']))\n",
                path=folder)
    for learner in (ANN, BEN):
        assert hub.nbgrader(learner, "submit", course_id="spring",
                            assignment_id=MODULE)["success"]

    # The learners can reach neither the gradebook nor each other's work.
    probe = hub.execute(ANN, "import os, glob\n"
                        f"for p in [{str(hub.course / 'cohorts/spring/gradebook.db')!r}, "
                        f"{str(hub.course / 'source')!r}, '/home/{BEN}']:\n"
                        "    try:\n        os.listdir(p) if os.path.isdir(p) else open(p).read(1)\n"
                        "        print('READABLE', p)\n"
                        "    except OSError:\n        print('denied', p)\n"
                        f"print('inbound', glob.glob({str(hub.exchange / 'spring/inbound')!r}"
                        " + '/*'))\n")
    assert "READABLE" not in probe, probe
    assert "inbound []" in probe, probe

    facilitator_runs(hub, "collect", "--all", "--cohort", "spring")
    graded = facilitator_runs(hub, "grade", "--all", "--cohort", "spring")
    assert "Graded 2 of 2" in graded, graded
    status = facilitator_runs(hub, "status", "--cohort", "spring")
    table = status.split("\n\n")[0]  # the learner x module table, before legend and flags
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()
            if line.split() and line.split()[0] in (ANN, BEN)}
    assert rows == {ANN: "OK", BEN: "low"}, status
    facilitator_runs(hub, "report", "--cohort", "spring")
    facilitator_runs(hub, "feedback", MODULE, "--cohort", "spring")
    assert hub.nbgrader(ANN, "fetch_feedback", course_id="spring",
                        assignment_id=MODULE)["success"]
    feedback = hub.execute(ANN, "import glob\nprint(glob.glob('feedback/*/*.html'))",
                           path=folder)
    assert ".html" in feedback, feedback

    # The exchange between learners. Even knowing the name of Ann's handed-in folder (nbgrader
    # hides it only behind a random name), Ben can neither list, read, change, rename nor
    # delete it, and cannot list the inbound folder at all.
    inbound = hub.exchange / "spring" / "inbound"
    ann_folder = next(p for p in inbound.iterdir() if p.name.startswith(ANN + "+"))
    probe = hub.execute(BEN, "import os, shutil\n"
                        f"inbound, ann = {str(inbound)!r}, {str(ann_folder)!r}\n"
                        "tries = {'list inbound': lambda: os.listdir(inbound),\n"
                        "  'list hers': lambda: os.listdir(ann),\n"
                        f"  'read hers': lambda: open(ann + '/{MODULE}.ipynb', 'rb').read(1),\n"
                        "  'write into hers': lambda: open(ann + '/x.txt', 'w').write('x'),\n"
                        "  'rename hers': lambda: os.rename(ann, inbound + '/taken'),\n"
                        "  'delete hers': lambda: shutil.rmtree(ann)}\n"
                        "for name, attempt in tries.items():\n"
                        "    try:\n        attempt()\n        print('ALLOWED', name)\n"
                        "    except OSError:\n        print('denied', name)\n")
    assert "ALLOWED" not in probe and probe.count("denied") == 6, probe
    # What Ben plants by hand is refused by collect: a folder in Ann's name, and a folder of
    # his own whose notebook is a link to the instructor version.
    planted = hub.execute(BEN, "import os\n"
                          f"src = {str(hub.course / 'source' / MODULE / (MODULE + '.ipynb'))!r}\n"
                          "for who, tag in (('" + ANN + "', 'a'), ('" + BEN + "', 'b')):\n"
                          f"    d = {str(inbound)!r} + f'/{{who}}+{MODULE}+2030-01-01 "
                          "00:00:00.000000 UTC+' + tag\n"
                          "    os.mkdir(d)\n"
                          "    open(d + '/timestamp.txt', 'w').write('2030-01-01 00:00 UTC')\n"
                          f"    os.symlink(src, d + '/{MODULE}.ipynb')\n"
                          "print('planted')\n")
    assert "planted" in planted, planted
    facilitator_runs(hub, "collect", MODULE, "--cohort", "spring")
    submitted = hub.course / "cohorts" / "spring" / "submitted"
    assert (submitted / ANN / MODULE / f"{MODULE}.ipynb").is_file()  # still her own work
    assert not (submitted / ANN / MODULE / f"{MODULE}.ipynb").is_symlink()
    assert not (submitted / BEN / MODULE / f"{MODULE}.ipynb").exists()
    cohort_folder = hub.course / "cohorts" / "spring"
    records = {p.stem: " ".join(refusals(cohort_folder, MODULE, p.stem))
               for p in (cohort_folder / "intake" / MODULE).glob("*.json")}
    assert "handed in by the account " + BEN in records[ANN], records
    assert "the link was not followed" in records[BEN], records

    # Instructor tools: the learner's Lab has none (disabled and locked), the facilitator's has.
    assert hub.api("GET", f"/user/{ANN}/formgrader")[0] == 404
    assert hub.api("GET", f"/user/{FACILITATOR}/formgrader")[0] == 200
    # The course home answers on the hub: the default URL every learner opens on.
    status, home = hub.api("GET", f"/user/{ANN}/privacy-course/")
    assert status == 200 and MODULE in home, (status, home[:300])
    for user, hidden in ((ANN, True), (FACILITATOR, False)):
        status, page = hub.api("GET", f"/user/{user}/lab")
        assert status == 200
        config = json.loads(page.split('id="jupyter-config-data"')[1].split(">", 1)[1]
                            .split("</script>")[0])
        for tool in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
            assert (tool in config.get("disabledExtensions", [])) is hidden, (user, tool)
            assert (tool in config.get("lockedExtensions", [])) is hidden, (user, tool)
