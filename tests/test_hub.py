"""The kit's own one-machine hub, on 127.0.0.1, with real Unix users: two facilitators and two
learners (and one of the facilitators a learner of another cohort).

Nothing here is a layout of the test's making: the repository is copied as a clone would be, the
kit's installer (deploy/littlest/install.sh) puts it on the machine (into a scratch folder, every
path moved by its environment variables), and JupyterHub runs deploy/littlest/jupyterhub_config.py
itself, loaded by a two-line wrapper that only adds the test's API token. The whole cycle goes
through the hub's REST API and each user's own server: the facilitator's kernel runs
`privacy-course` (cohorts, release, collect, grade, report), the learners fetch and submit with
nbgrader's Assignments endpoints and complete m01 through the widgets in their own kernels.

Checks: no answer key or hidden test is readable by a learner anywhere the kit put files (a
probe in a learner's own server reads every text file there); learners cannot read each other's
work or the gradebook, cannot fetch a cohort they are not in, cannot rename the exchange's
folders, and have no instructor tools; a roster e-mail signs in as its roster id; the metrics
need their token; the server never fetches news, and a browser that refuses every request off
this machine records none; a backup restores; and taking people off the cohorts file removes
their access: a learner is deleted from the hub, a facilitator loses the formgrade- group, the
Unix group and, at the next start, the facilitator's server. Users, processes and files are
removed afterwards."""

from __future__ import annotations

import grp
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy_course.grading.intake import refusals

from .conftest import ROOT
from .kit_layout import copy_kit, key_markers, probe_code, probe_result
from .learner import LEARNER_ACTIONS, answer_key

pytestmark = [pytest.mark.slow, pytest.mark.hub]
MODULE = "m01-making-the-case"
FACILITATOR, FACILITATOR2, ANN, BEN = "pcfac", "pcfac2", "pcann", "pcben"
USERS = (FACILITATOR, FACILITATOR2, ANN, BEN)
GROUP = "pcfacilitators"
SYSTEM_PYTHON = "/usr/bin/python3.11"  # other users cannot run a Python under /root
KIT_CONFIG = Path("deploy/littlest/jupyterhub_config.py")
SPRING_ROSTER = ("id,first_name,last_name,email\n"
                 f"{ANN},Ann,Avery,ann.avery@example.org\n{BEN},Ben,Bell,ben.bell@example.org\n")
AUTUMN_ROSTER = ("id,first_name,last_name,email\n"
                 f"{ANN},Ann,Avery,ann.avery@example.org\n"
                 f"{FACILITATOR2},Fay,Second,fay.second@example.org\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def cohorts_file(spring_facilitators: list[str], rosters: Path) -> str:
    return ('admins = []\n'
            '[sign_in]\n"fac@example.org" = "pcfac"\n'
            f'[cohorts.spring]\nfacilitators = {json.dumps(spring_facilitators)}\n'
            f'roster = "{rosters / "spring.csv"}"\n'
            f'[cohorts.autumn]\nfacilitators = ["{FACILITATOR}"]\n'
            f'roster = "{rosters / "autumn.csv"}"\n')


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


def login(hub: Hub, name: str) -> tuple[int, str]:
    """Sign in through the hub's login form, as a browser does; (status, where it sends us)."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.open(hub.url + "/hub/login", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"username": name, "password": hub.password,
                                   "_xsrf": xsrf}).encode()
    try:
        with opener.open(hub.url + "/hub/login", data=form, timeout=60) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "") or ""


def wait_for(what: str, condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def group_members(group: str) -> set[str]:
    return set(grp.getgrnam(group).gr_mem)


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    if os.geteuid() != 0 or not Path(SYSTEM_PYTHON).exists() or not shutil.which("npm"):
        pytest.fail("the hub test needs root (to create users), /usr/bin/python3.11 and npm")
    base = Path(tempfile.mkdtemp(prefix="pc-hub-"))
    base.chmod(0o755)
    hub_process = None
    try:
        for user in USERS:
            if subprocess.run(["id", user], capture_output=True).returncode != 0:
                # HOME_MODE as the kit's installer sets it in /etc/login.defs.
                run("useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash", user)
        # The users' environment (TLJH's /opt/tljh/user); the kit installs the course into it.
        user_env = base / "userenv"
        run(SYSTEM_PYTHON, "-m", "venv", str(user_env))
        run(str(user_env / "bin" / "pip"), "install", "--quiet", "jupyterhub>=5.2,<7")
        run("npm", "install", "--silent", "--prefix", str(base / "chp"),
            "configurable-http-proxy@5")
        kit = copy_kit(base / "opt" / "privacy-course", [MODULE])
        etc, course = base / "etc" / "privacy-course", base / "srv" / "privacy-course"
        exchange, state = base / "srv" / "nbgrader" / "exchange", base / "srv" / "jupyterhub"
        shutil.copy2("/etc/login.defs", base / "login.defs")
        paths = {"PRIVACY_COURSE_KIT": str(kit), "PRIVACY_COURSE_USER_ENV": str(user_env),
                 "PRIVACY_COURSE_ETC": str(etc), "PRIVACY_COURSE_ROOT": str(course),
                 "PRIVACY_COURSE_EXCHANGE": str(exchange),
                 "PRIVACY_COURSE_FACILITATORS_GROUP": GROUP,
                 "PRIVACY_COURSE_TLJH_CONFIG": str(base / "no-tljh"),
                 "PRIVACY_COURSE_LOGIN_DEFS": str(base / "login.defs")}
        installed = run("bash", str(kit / "deploy/littlest/install.sh"),
                        env=dict(os.environ, **paths))
        assert "installed" in installed.stdout, installed.stdout + installed.stderr
        assert "HOME_MODE\t0700" in (base / "login.defs").read_text()
        (course / "rosters" / "spring.csv").write_text(SPRING_ROSTER)
        (course / "rosters" / "autumn.csv").write_text(AUTUMN_ROSTER)
        (etc / "cohorts.toml").write_text(cohorts_file([FACILITATOR, FACILITATOR2],
                                                       course / "rosters"))
        metrics_token = secrets.token_hex(16)
        (etc / "metrics-token").write_text(metrics_token)
        for path in (etc / "cohorts.toml", etc / "metrics-token"):
            path.chmod(0o600)
        state.mkdir(parents=True)
        port, token, password = free_port(), secrets.token_hex(16), secrets.token_hex(12)
        # The kit's configuration, plus the test's own API token.
        (base / "jupyterhub_config.py").write_text(
            "c = get_config()  # noqa\n"
            f"load_subconfig({str(kit / KIT_CONFIG)!r})\n"
            f"c.JupyterHub.services.append({{'name': 'course-test', 'api_token': {token!r}}})\n"
            "c.JupyterHub.load_roles.append({'name': 'course-test', 'services': "
            "['course-test'], 'scopes': ['admin:users', 'admin:servers', 'access:servers', "
            "'admin:groups', 'read:metrics']})\n")
        hub_env = dict(
            os.environ, **paths, PRIVACY_COURSE_STANDALONE="1",
            PRIVACY_COURSE_SPAWNER="localprocess", PRIVACY_COURSE_AUTHENTICATOR="shared-password",
            PRIVACY_COURSE_SHARED_PASSWORD=password,
            PRIVACY_COURSE_HUB_COHORTS=str(etc / "cohorts.toml"),
            PRIVACY_COURSE_USER_PYTHON=str(user_env / "bin" / "python"),
            PRIVACY_COURSE_ROLE_CONFIG=str(etc),
            PRIVACY_COURSE_BIND_URL=f"http://127.0.0.1:{port}",
            PRIVACY_COURSE_HUB_PORT=str(free_port()),
            PRIVACY_COURSE_PROXY_API_URL=f"http://127.0.0.1:{free_port()}",
            PRIVACY_COURSE_PROXY_COMMAND=str(base / "chp/node_modules/.bin"
                                             / "configurable-http-proxy"),
            PRIVACY_COURSE_HUB_STATE=str(state),
            PRIVACY_COURSE_METRICS_TOKEN_FILE=str(etc / "metrics-token"),
            PRIVACY_COURSE_SYNC_INTERVAL="2",
            PATH=f"{user_env / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin")
        hub_process = subprocess.Popen(
            [str(user_env / "bin" / "jupyterhub"), "-f", str(base / "jupyterhub_config.py")],
            cwd=state, env=hub_env, stdout=open(base / "hub.log", "w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        the_hub = Hub(base, port, token)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if the_hub.api("GET", "/hub/api/")[0] == 200:
                    break
            except OSError:
                pass
            assert hub_process.poll() is None, (base / "hub.log").read_text()[-4000:]
            time.sleep(0.5)
        else:
            raise AssertionError((base / "hub.log").read_text()[-4000:])
        the_hub.kit, the_hub.course, the_hub.exchange, the_hub.etc = kit, course, exchange, etc
        the_hub.venv, the_hub.password, the_hub.metrics_token = user_env, password, metrics_token
        # The sync service puts the facilitators into the Unix group before anyone spawns.
        wait_for("the sync to fill the facilitators' group",
                 lambda: group_members(GROUP) == {FACILITATOR, FACILITATOR2})
        for user in USERS:
            the_hub.spawn(user)
        yield the_hub
    finally:
        if hub_process is not None:
            for user in USERS:
                try:
                    Hub(base, port, token).api("DELETE", f"/hub/api/users/{user}/server")
                except OSError:
                    pass
            os.killpg(hub_process.pid, 15)
            hub_process.wait(timeout=60)
        for user in USERS:
            subprocess.run(["pkill", "-u", user], capture_output=True)
            subprocess.run(["userdel", "-r", user], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def probe(hub: Hub, user: str, tops: list[Path]) -> dict:
    """What `user`'s own server can read under `tops` (tests/kit_layout.py)."""
    return probe_result(hub.execute(user, probe_code(tops, key_markers(MODULE))))


def test_no_answer_key_within_a_learners_reach(hub: Hub) -> None:
    """Everywhere the kit put files (the clone, the users' environment with the installed
    package, the role configuration, the course folder, the exchange), a learner's server reads
    no hidden test and no answer key; the same probe as a facilitator finds them, so it looks."""
    tops = [hub.kit, hub.venv, hub.etc, hub.course, hub.exchange]
    learner = probe(hub, ANN, tops)
    assert learner["found"] == [], learner["found"]
    assert learner["read"] > 1000, learner  # the installed package and its dependencies
    assert str(hub.kit) in learner["denied"] and str(hub.course) in learner["denied"], learner
    facilitator = probe(hub, FACILITATOR, [hub.kit / "source", hub.course / "source"])
    assert len(facilitator["found"]) >= 2, facilitator


def facilitator_runs(hub: Hub, *args: str, user: str = FACILITATOR) -> str:
    code = ("import subprocess\n"
            f"r = subprocess.run({['privacy-course', *args]!r}, "
            f"cwd={str(hub.course)!r}, capture_output=True, text=True)\n"
            "print(r.stdout); print('EXIT', r.returncode); print(r.stderr[-2000:])")
    out = hub.execute(user, code)
    assert "EXIT 0" in out or args[0] == "grade", out
    return out


def status_marks(status: str) -> dict[str, str]:
    """{learner id: mark of the first module} from `privacy-course status`'s table, whose rows
    read "Ann Avery (pcann)   OK  1/1"."""
    marks: dict[str, str] = {}
    for match in re.finditer(r"\((\w+)\)\s+(\S+)", status):
        marks.setdefault(match[1], match[2])  # the table comes first; flags may name them too
    return marks


def test_whole_cycle_on_a_real_hub(hub: Hub):
    facilitator_runs(hub, "cohort", "create", "spring", "--roster", "rosters/spring.csv")
    facilitator_runs(hub, "cohort", "create", "autumn", "--roster", "rosters/autumn.csv")
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
    # The second facilitator shares the cohort's folders and gradebook (one Unix group).
    status = facilitator_runs(hub, "status", "--cohort", "spring", user=FACILITATOR2)
    assert status_marks(status) == {ANN: "OK", BEN: "low"}, status
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

    # The formgrader opens in its own tab: JupyterHub >= 4.1 forbids framing it inside the Lab
    # of a hub without subdomains, and the kit keeps that protection (deploy/README.md).
    request = urllib.request.Request(hub.url + f"/user/{FACILITATOR}/formgrader",
                                     headers={"Authorization": f"token {hub.token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_backup_and_restore(hub: Hub) -> None:
    """deploy/littlest/backup.sh: a backup taken while the hub runs, then the gradebook, a
    hand-in and a learner's home lost, then the restore: the completion table is as it was,
    and every file has its owner and mode back."""
    if not (hub.course / "cohorts" / "spring" / "gradebook.db").exists():
        pytest.fail("runs after test_whole_cycle_on_a_real_hub (a graded cohort to back up)")
    before = status_marks(facilitator_runs(hub, "status", "--cohort", "spring"))
    assert before[ANN] == "OK" and BEN in before, before
    env = dict(os.environ, PRIVACY_COURSE_ETC=str(hub.etc), PRIVACY_COURSE_ROOT=str(hub.course),
               PRIVACY_COURSE_EXCHANGE=str(hub.exchange),
               PRIVACY_COURSE_HOMES=" ".join(f"/home/{u}" for u in USERS),
               PRIVACY_COURSE_PYTHON=str(hub.venv / "bin" / "python"))
    script = str(hub.kit / "deploy/littlest/backup.sh")
    made = Path(run("bash", script, "backup", str(hub.base / "backups"), env=env).stdout.strip())
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    assert (made / "gradebooks" / "spring.db").is_file()
    ann_work = Path(f"/home/{ANN}/spring/{MODULE}/{MODULE}.ipynb")
    ann_mode, ann_owner = ann_work.stat().st_mode, ann_work.stat().st_uid
    submitted = hub.course / "cohorts" / "spring" / "submitted" / ANN
    (hub.course / "cohorts" / "spring" / "gradebook.db").unlink()
    shutil.rmtree(submitted)
    ann_work.unlink()
    run("bash", script, "restore", str(made), env=env)
    assert ann_work.stat().st_mode == ann_mode and ann_work.stat().st_uid == ann_owner
    assert (submitted / MODULE / f"{MODULE}.ipynb").is_file()
    assert status_marks(facilitator_runs(hub, "status", "--cohort", "spring")) == before


def test_the_exchange_cannot_be_hijacked(hub: Hub) -> None:
    """The exchange is 1777: a learner may add a folder of their own but cannot rename or
    replace a cohort's (which would let them serve fake modules and receive others' work)."""
    assert oct(hub.exchange.stat().st_mode & 0o7777) == "0o1777"
    if not (hub.exchange / "spring").exists():
        facilitator_runs(hub, "cohort", "create", "spring", "--roster", "rosters/spring.csv")
        facilitator_runs(hub, "release", MODULE, "--cohort", "spring")
    probe = hub.execute(BEN, "import os, shutil\n"
                        f"ex = {str(hub.exchange)!r}\n"
                        "tries = {'rename spring': lambda: os.rename(ex + '/spring', ex + '/x'),\n"
                        "  'delete spring': lambda: shutil.rmtree(ex + '/spring'),\n"
                        "  'replace outbound': lambda: os.rename(ex + '/spring/outbound',"
                        " ex + '/spring/o2')}\n"
                        "for name, attempt in tries.items():\n"
                        "    try:\n        attempt()\n        print('ALLOWED', name)\n"
                        "    except OSError:\n        print('denied', name)\n"
                        "os.mkdir(ex + '/ben-own'); os.rmdir(ex + '/ben-own'); print('own ok')\n")
    assert "ALLOWED" not in probe and probe.count("denied") == 3 and "own ok" in probe, probe


def test_sign_in_names_map_to_roster_ids(hub: Hub) -> None:
    """A roster's e-mail (any case) signs in as that row's id; the cohorts file's [sign_in]
    maps a facilitator's; a name on no roster is refused."""
    assert login(hub, "Ann.Avery@Example.org") == (302, f"/user/{ANN}/")
    assert login(hub, "fac@example.org") == (302, f"/user/{FACILITATOR}/")
    assert login(hub, "stranger@example.org")[0] == 403
    status, users = hub.api("GET", "/hub/api/users")
    assert not any("@" in u["name"] for u in users), users


def test_metrics_need_their_token(hub: Hub) -> None:
    request = urllib.request.Request(hub.url + "/hub/metrics",
                                     headers={"Authorization": f"token {hub.metrics_token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert "jupyterhub_" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(hub.url + "/hub/metrics", timeout=30)
    assert refused.value.code == 403


def test_no_news_or_update_check_from_the_server(hub: Hub) -> None:
    """JupyterLab's own endpoints the Lab polls: no news fetched, no update checked, and the
    extension manager cannot search PyPI (the role configuration, on every path)."""
    assert hub.api("GET", f"/user/{ANN}/lab/api/news") == (200, {"news": []})
    status, update = hub.api("GET", f"/user/{ANN}/lab/api/update")
    assert status == 200 and update.get("notification") is None, update
    status, listing = hub.api("GET", f"/user/{FACILITATOR}/lab/api/extensions?query=x")
    assert status == 200, listing
    overrides = hub.venv / "share/jupyter/lab/settings/overrides.json"
    assert json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"][
        "checkForUpdates"] is False


@pytest.mark.browser
def test_nothing_phones_home_in_a_browser(hub: Hub) -> None:
    """A learner signs in and opens JupyterLab and the course home in chromium, with every
    request off this machine refused and recorded: none is made, and no news prompt shows."""
    from playwright.sync_api import sync_playwright

    from .browser_helpers import launch

    outside: list[str] = []

    def only_here(route) -> None:
        host = urllib.parse.urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.route("**/*", only_here)
            page.goto(hub.url + "/hub/login")
            page.fill("#username_input", "ann.avery@example.org")
            page.fill("#password_input", hub.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{ANN}/**", timeout=120_000)
            page.goto(hub.url + f"/user/{ANN}/lab")
            page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            page.wait_for_timeout(8000)  # Lab asks for news and updates shortly after start
            text = page.inner_text("body")
            page.goto(hub.url + f"/user/{ANN}/privacy-course/")
            page.wait_for_load_state("networkidle", timeout=60_000)
        finally:
            browser.close()
    assert outside == [], outside
    assert "Jupyter news" not in text and "new version" not in text.lower()


def test_leaving_the_roster_removes_access(hub: Hub) -> None:
    """Ben leaves spring's roster and the second facilitator leaves spring (staying a learner
    of autumn). Within the sync's interval: Ben is no longer on the hub (server stopped,
    sign-in refused); the second facilitator is out of formgrade-spring and the Unix group, her
    server was stopped, and her next server is a learner's that cannot read the course."""
    spring = hub.course / "rosters" / "spring.csv"
    spring.write_text("\n".join(SPRING_ROSTER.splitlines()[:2]) + "\n")
    (hub.etc / "cohorts.toml").write_text(cohorts_file([FACILITATOR], spring.parent))
    wait_for("Ben's removal", lambda: hub.api("GET", f"/hub/api/users/{BEN}")[0] == 404)
    assert login(hub, BEN)[0] == 403
    assert subprocess.run(["pgrep", "-u", BEN, "-f", "jupyterhub-singleuser"],
                          capture_output=True).returncode == 1
    wait_for("the second facilitator's demotion",
             lambda: "formgrade-spring" not in hub.api(
                 "GET", f"/hub/api/users/{FACILITATOR2}")[1]["groups"]
             and not hub.api("GET", f"/hub/api/users/{FACILITATOR2}")[1]["servers"])
    _, fay = hub.api("GET", f"/hub/api/users/{FACILITATOR2}")
    assert fay["groups"] == ["nbgrader-autumn"], fay
    wait_for("the Unix group", lambda: group_members(GROUP) == {FACILITATOR})
    hub.spawn(FACILITATOR2)
    out = hub.execute(FACILITATOR2, "import os\n"
                      "print(os.environ['PRIVACY_COURSE_ROLE'], 'PRIVACY_COURSE_DB_URL' in "
                      f"os.environ)\nprint(os.access({str(hub.course)!r}, os.R_OK))\n")
    assert out.split() == ["learner", "False", "False"], out
    assert hub.api("GET", f"/user/{FACILITATOR2}/formgrader")[0] == 404
