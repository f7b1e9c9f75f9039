"""A submission is files a learner controls: take in only what she wrote, never what she planted.

nbgrader copies submissions with `shutil.copytree` and `shutil.copy`, which follow symbolic links,
and its inbound exchange folder is writable by every learner (jupyter/nbgrader#978, #1225). A
link named like the module notebook and pointing at `source/<module>/<module>.ipynb` would have
the facilitator's own collect copy the answer key into the learner's submission; a link to the
gradebook beside it would be read by nbgrader's autograde copy and handed to the learner's code.

So every step that takes in a submission goes through `safe_copy`: regular files and folders
only, read with O_NOFOLLOW; links, hard links, FIFOs, sockets and devices, odd names, and files
beyond a count or a total size are refused, never followed or read, and each refusal becomes a
plain-words flag naming the learner. It runs twice: at collect, from the inbound exchange
(`SafeCollect`, nbgrader's own collect with its copy step replaced), and before grading, over
`submitted/` (`check_submitted`), since a submission can reach that folder by other routes.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.submit import ExchangeSubmit

from privacy_course.learner.responses import atomic_write_json
from privacy_course.record import Flag, unique

RECORDS = "intake"  # cohorts/<name>/intake/<module>/<learner>.json: what was refused
QUARANTINE = "quarantine"  # cohorts/<name>/quarantine/<module>/<learner>/: refused, kept
LEARNER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
ODD_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class Limits:
    files: int = 300
    megabytes: int = 100
    ignore: tuple[str, ...] = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")


def limits_from(config: object) -> Limits:
    """The intake limits of a loaded configuration (SandboxSettings and nbgrader's ignore)."""
    from privacy_course.config import SandboxSettings

    settings = SandboxSettings(config=config)
    ignore = getattr(getattr(config, "CourseDirectory", None), "ignore", None)
    return Limits(settings.submission_files, settings.submission_mb,
                  tuple(ignore) if isinstance(ignore, list) else Limits.ignore)


def _first(module_id: str | None, name: str) -> tuple[int, str]:
    """The notebook and its answers come first, so a flood of other files cannot push them out."""
    wanted = {f"{module_id}.ipynb", f"{module_id}.responses.json"} if module_id else set()
    return (0 if name in wanted else 1, name)


def safe_copy(src: Path, dest: Path, limits: Limits, module_id: str | None = None) -> list[Flag]:
    """Copy the regular files and folders of `src` into `dest` (created), never following a
    link; return a plain sentence for each thing refused."""
    refused: list[Flag] = []
    budget = {"files": limits.files, "bytes": limits.megabytes * 1024 * 1024}
    dest.mkdir(parents=True, exist_ok=True)
    _copy_folder(src, dest, Path(), limits, module_id, budget, refused)
    return refused


def _copy_folder(src: Path, dest: Path, rel: Path, limits: Limits, module_id: str | None,
                 budget: dict[str, int], refused: list[Flag]) -> None:
    try:
        entries = sorted(os.scandir(src), key=lambda e: _first(module_id, e.name))
    except OSError as exc:
        refused.append(Flag("folder-unreadable", where=str(rel) or ".", reason=exc.strerror))
        return
    for entry in entries:
        where = rel / entry.name
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in limits.ignore):
            continue
        if ODD_NAME.search(entry.name):
            refused.append(Flag("odd-name", where=f"{where!s:.60}"))
            continue
        if entry.is_symlink():
            refused.append(Flag("link", where=str(where)))
            continue
        if entry.is_dir(follow_symlinks=False):
            (dest / entry.name).mkdir(exist_ok=True)
            _copy_folder(Path(entry.path), dest / entry.name, where, limits, module_id, budget,
                         refused)
            continue
        if not entry.is_file(follow_symlinks=False):
            refused.append(Flag("special-file", where=str(where)))
            continue
        if budget["files"] <= 0:
            refused.append(Flag("too-many-files", limit=limits.files, where=str(where)))
            return
        _copy_file(Path(entry.path), dest / entry.name, where, budget, limits, refused)


def _copy_file(src: Path, dest: Path, where: Path, budget: dict[str, int], limits: Limits,
               refused: list[Flag]) -> None:
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        refused.append(Flag("file-unreadable", where=str(where), reason=exc.strerror))
        return
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped for something else since it was listed
            refused.append(Flag("special-file", where=str(where)))
            return
        if info.st_nlink > 1:
            refused.append(Flag("hard-link", where=str(where)))
            return
        if info.st_size > budget["bytes"]:
            refused.append(Flag("too-large", limit=limits.megabytes, where=str(where)))
            budget["files"] = 0
            return
        budget["files"] -= 1
        budget["bytes"] -= info.st_size
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(dest, flags, 0o644), "wb") as target:
            shutil.copyfileobj(source, target, info.st_size + 1)  # never more than it said
            target.truncate(min(target.tell(), info.st_size))


def _record(cohort_folder: Path, module_id: str, learner: str, refused: list[Flag]) -> None:
    path = cohort_folder / RECORDS / module_id / f"{learner}.json"
    if refused:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"refused": [f.to_json() for f in unique(refused)]})
    else:
        path.unlink(missing_ok=True)


def refusals(cohort_folder: Path, module_id: str, learner: str) -> list[Flag]:
    """The flags recorded for a learner's latest submission of a module (collect and grade)."""
    path = cohort_folder / RECORDS / module_id / f"{learner}.json"
    try:
        return [Flag.from_json(f)
                for f in json.loads(path.read_text(encoding="utf-8")).get("refused", [])]
    except (OSError, ValueError, AttributeError):
        return []


def check_submitted(cohort_folder: Path, learner: str, module_id: str, folder: Path,
                    limits: Limits) -> list[Flag]:
    """Make `folder` (submitted/<learner>/<module>) hold only what safe_copy takes, before
    nbgrader's autograde copies it. Anything refused is moved, untouched, to the cohort's
    quarantine folder (nothing a learner handed in is deleted). Returns every flag for this
    submission, those recorded at collect included."""
    earlier = refusals(cohort_folder, module_id, learner)
    with tempfile.TemporaryDirectory(dir=cohort_folder) as tmp:
        clean = Path(tmp) / "clean"
        refused = safe_copy(folder, clean, limits, module_id)
        if refused:
            kept = cohort_folder / QUARANTINE / module_id / learner
            if kept.exists():
                shutil.rmtree(kept)
            kept.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(kept)
            clean.rename(folder)
    flags = list(unique([*earlier, *refused]))
    _record(cohort_folder, module_id, learner, flags)
    return flags


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, with its copy (which follows links) replaced by `safe_copy`.

    A handed-in folder is refused whole when its name claims a learner it cannot be: a name
    that is no roster id (".." would put the copy beside submitted/), or a folder owned by
    another account than the learner's (nbgrader itself only warns, jupyter/nbgrader#1225). A
    refused folder is dated 1970 before nbgrader picks each learner's latest, so a folder
    planted in someone's name with a future date can neither replace nor hide her real work."""

    def _path_to_record(self, path: str) -> dict:
        record = super()._path_to_record(path)
        problem = self._name_problem(Path(path), record["username"])
        if problem:
            refused = self.__dict__.setdefault("_refused", {})
            refused[record["filename"]] = (record["username"], problem)
            record["timestamp"] = record["timestamp"].replace(year=1970, month=1, day=1)
        return record

    def copy_files(self) -> None:
        super().copy_files()
        for learner, problem in self.__dict__.get("_refused", {}).values():
            if LEARNER_ID.fullmatch(learner):
                _record(Path(self.coursedir.root), self.coursedir.assignment_id, learner,
                        [*refusals(Path(self.coursedir.root), self.coursedir.assignment_id,
                                   learner), problem])
            self.log.error("%s", problem)

    def do_copy(self, src: str, dest: str, log: object = None) -> None:
        if os.path.basename(src) in self.__dict__.get("_refused", {}):
            return  # reported by copy_files
        dest_path = Path(dest)
        learner, module_id = dest_path.parent.name, dest_path.name
        refused = safe_copy(Path(src), dest_path, limits_from(self.config), module_id)
        for line in refused:
            self.log.warning("%s: %s", learner, line)
        _record(Path(self.coursedir.root), module_id, learner, refused)

    @staticmethod
    def _name_problem(src: Path, learner: str) -> Flag | None:
        if not LEARNER_ID.fullmatch(learner):
            return Flag("impossible-name", name=src.name)
        try:
            info = os.lstat(src)
        except OSError:
            return Flag("folder-vanished", learner=learner)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            return Flag("folder-is-link", learner=learner)
        if info.st_uid == os.getuid():
            return None  # one machine, one account: the facilitator's own exchange
        try:
            import pwd

            owner = pwd.getpwuid(info.st_uid).pw_name
        except (ImportError, KeyError):
            return None
        if owner != learner:
            return Flag("impostor", learner=learner, owner=owner)
        return None


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, then the submission made private to its learner and the facilitators.

    nbgrader leaves each handed-in folder world-writable and its files world-readable, hidden
    only by an unguessable name ("so the instructor can delete later"); anyone who learns the
    name can read, change or empty another learner's work. The inbound folder is set-group-id,
    so the copy already belongs to the facilitators' group: owner and group keep access, no one
    else has any. (Renaming or deleting the folder itself is stopped by the sticky bit that
    `privacy-course release` sets on the inbound folder.)"""

    def do_copy(self, src: str, dest: str, log: object = None) -> None:
        # nbgrader's copytree copies each folder's mode, and a chmod by a learner who is not in
        # the facilitators' group clears the set-group-id bit, so the timestamp and secret that
        # nbgrader writes next would belong to the learner's own group, unreadable to the
        # facilitators once private. safe_copy never changes a folder's mode.
        for line in safe_copy(Path(src), Path(dest), limits_from(self.config)):
            self.log.warning("Not handed in: %s", line)

    def copy_files(self) -> None:
        super().copy_files()
        dest = Path(self.inbound_path) / self.assignment_filename
        for current, _dirs, names in os.walk(dest, followlinks=False):
            os.chmod(current, 0o770)
            for name in names:
                path = Path(current) / name
                if not path.is_symlink():
                    os.chmod(path, 0o640)


def lock_inbound(exchange_root: Path, course_id: str) -> None:
    """Set the sticky bit on the exchange folders this account owns (the root and the cohort's
    inbound folder): nbgrader makes them writable by every learner, and without the bit a
    learner can rename or delete another learner's submission, or the cohort's own folder."""
    for path in (exchange_root, exchange_root / course_id / "inbound"):
        try:
            info = path.stat()
            if info.st_uid == os.getuid():
                os.chmod(path, stat.S_IMODE(info.st_mode) | stat.S_ISVTX)
        except OSError:
            pass
