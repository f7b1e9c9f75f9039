"""Certificates a district can accept: one per learner who completed every module.

Each certificate is three files in the output folder, made from the same facts:

- `certificate-<id>.html`: a styled page, ready to print on one landscape Letter sheet;
- `certificate-<id>.pdf`: the same page as a PDF with its fonts embedded, so every name prints
  as typed (see `certificate_pdf`), and the signed credential attached;
- `certificate-<id>.credential.json`: the signed, verifiable credential (an Open Badges 3.0
  credential with a W3C Data Integrity proof; see `credentials`), which anyone can check
  offline with `privacy-course certificates verify FILE`.

The issuer, signer and title are settings in grader_config.py (`certificate_issuer`,
`certificate_signer`, `certificate_signer_title`, `certificate_title`); the hours are
`hours_per_module` x the modules. Modules are named by their titles. Each certificate has a
unique number, kept with its issue date in the cohort's register (`certificates.json` in the
cohort folder), so writing the certificates again gives each learner the same number and the
same credential. Beside the certificates, `issuer-public-key.json` is the issuer's public key to
hand to anyone who checks one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privacy_course.config import CourseSettings
from privacy_course.coursedir import Cohort
from privacy_course.errors import CourseError
from privacy_course.facilitator import credentials as vc
from privacy_course.facilitator.certificate_pdf import fonts_for, write_certificate_pdf
from privacy_course.facilitator.completion import LearnerRow
from privacy_course.facilitator.templating import render
from privacy_course.learner.home import module_title
from privacy_course.learner.responses import atomic_write_json

REGISTER = "certificates.json"
PUBLIC_KEY = "issuer-public-key.json"
KEY_FILE = Path(".certificate-key") / "issuer-key.pem"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class CertificateError(CourseError, ValueError):
    """Certificates cannot be written or checked; the message says what to set or fix."""


def certificate_number(credential_id: str) -> str:
    """The number printed on a certificate, read from its credential's id (a UUID): 60 bits in
    Crockford's base 32, e.g. PC-7F3K-9QXD-2M4A, so a number never repeats and always leads
    back to one credential."""
    bits = uuid.UUID(credential_id).int >> 68
    digits = "".join(CROCKFORD[(bits >> shift) & 31] for shift in range(55, -1, -5))
    return "PC-" + "-".join(digits[i:i + 4] for i in range(0, 12, 4))


def key_path(root: Path, settings: CourseSettings) -> Path:
    """Where the course's signing key lives (`certificate_key_file`, or the default)."""
    configured = settings.certificate_key_file
    return (root / configured) if configured else root / KEY_FILE


def installation_key() -> Path | None:
    """This course installation's signing key file, when the command runs in a course folder
    (`verify` compares credentials with it when no issuer key file is given)."""
    from privacy_course.config import ConfigError, course_settings, find_course_root, load_config

    try:
        root = find_course_root()
        return key_path(root, course_settings(load_config(root)))
    except ConfigError:
        return None


def module_titles(root: Path, modules: list[str]) -> list[str]:
    return [module_title(root / "source" / m / f"{m}.ipynb") for m in modules]


@dataclass
class IssuedCertificate:
    """One learner's certificate: who, its number, its files, and any letters of the name the
    PDF could not show (no installed font has them)."""

    learner: str
    name: str
    number: str
    files: list[Path]
    missing_letters: str = ""


@dataclass
class CertificateRun:
    issued: list[IssuedCertificate] = field(default_factory=list)
    not_complete: int = 0
    folder: Path | None = None
    public_key: Path | None = None
    fingerprint: str = ""


def _require_settings(cohort: Cohort) -> None:
    settings = cohort.settings
    missing = [name for name in ("certificate_issuer", "certificate_signer")
               if not getattr(settings, name).strip()]
    if missing:
        lines = "\n  ".join(f'c.CourseSettings.{name} = "..."' for name in missing)
        raise CertificateError(
            f"certificates need an issuer and a signer: set these in "
            f"{cohort.root / 'grader_config.py'} (see README, \"Certificates\"):\n  {lines}")


def _register(cohort: Cohort) -> dict[str, dict[str, str]]:
    path = cohort.folder / REGISTER
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CertificateError(f"{path}: the register of issued certificates cannot be read "
                               f"({exc}); restore it from a backup") from exc
    return data if isinstance(data, dict) else {}


def _completed(row: LearnerRow) -> datetime:
    return max(r.submitted_at for r in row.results.values() if r.submitted_at)


def _long_date(when: datetime) -> str:
    return f"{when:%B} {when.day}, {when.year}"


def _facts(cohort: Cohort, row: LearnerRow, titles: list[str], entry: dict[str, str],
           fingerprint: str, files: dict[str, str]) -> dict[str, Any]:
    settings = cohort.settings
    hours = round(settings.hours_per_module * len(titles), 2)
    completed = _completed(row)
    issued = datetime.fromisoformat(entry["issued"])
    return {
        "title": settings.certificate_title, "name": row.name, "course": settings.title,
        "issuer": settings.certificate_issuer, "issuer_url": settings.certificate_issuer_url,
        "signer": settings.certificate_signer, "signer_title": settings.certificate_signer_title,
        "modules": titles, "hours": hours, "pass_mark": settings.pass_mark,
        "summary": f"{len(titles)} modules · {hours:g} professional-development hours · "
                   f"completed {_long_date(completed)}",
        "completed": completed, "completed_on": _long_date(completed), "issued": issued,
        "issued_on": _long_date(issued), "number": certificate_number(entry["id"]),
        "fingerprint": fingerprint, "credential_file": files["credential"],
        "verify_note": (f"A signed digital credential ({files['credential']}, Open Badges 3.0) "
                        "comes with this certificate. To check it: privacy-course certificates "
                        f"verify {files['credential']} --issuer-key {PUBLIC_KEY}"),
    }


def completion_credential(facts: dict[str, Any], key: vc.IssuerKey, email: str,
                          entry: dict[str, str]) -> dict[str, Any]:
    """The unsigned Open Badges 3.0 credential of one certificate. The learner is named as on
    the certificate; the email is present only as a salted hash (Open Badges' IdentityObject),
    which confirms an address someone already knows without revealing it."""
    issuer: dict[str, Any] = {"id": key.did, "type": ["Profile"], "name": facts["issuer"]}
    if facts["issuer_url"]:
        issuer["url"] = facts["issuer_url"]
    identifiers = [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                    "identityHash": facts["name"]}]
    if email:
        identifiers.append({"type": "IdentityObject", "identityType": "emailAddress",
                            "hashed": True, "salt": entry["salt"],
                            "identityHash": vc.hashed_identity(email.lower(), entry["salt"])})
    modules = "; ".join(facts["modules"])
    achievement = {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key.did + '#' + facts['course'])}",
        "type": ["Achievement"], "achievementType": "CertificateOfCompletion",
        "name": facts["course"],
        "description": f"A course on K-12 student data privacy for school-district leaders, in "
                       f"{len(facts['modules'])} modules.",
        "criteria": {"narrative": (
            f"Completed every module: each submitted, every scenario in it finished, and at "
            f"least {facts['pass_mark']:.0%} of its graded checks answered right. Modules: "
            f"{modules}.")},
        "creditsAvailable": facts["hours"],
    }
    return {
        "@context": [vc.VC_CONTEXT, vc.OB_CONTEXT],
        "id": f"urn:uuid:{entry['id']}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": vc.utc_stamp(facts["issued"]),
        "awardedDate": vc.utc_stamp(facts["issued"]),
        "name": f"{facts['title']}: {facts['course']}",
        "description": f"Certificate number {facts['number']}, signed by {facts['signer']}"
                       + (f", {facts['signer_title']}" if facts["signer_title"] else "")
                       + f", for {facts['hours']:g} professional-development hours.",
        "credentialSubject": {
            "type": ["AchievementSubject"], "identifier": identifiers,
            "activityEndDate": vc.utc_stamp(facts["completed"]),
            "creditsEarned": facts["hours"], "achievement": achievement,
        },
    }


def write_certificates(cohort: Cohort, rows: list[LearnerRow], modules: list[str],
                       folder: Path) -> CertificateRun:
    """A certificate (HTML, PDF, signed credential) for every learner who completed every
    module; nothing, and no key, while nobody has."""
    complete = [row for row in rows if row.course_complete]
    run = CertificateRun(not_complete=len(rows) - len(complete), folder=folder)
    if not complete:
        return run
    _require_settings(cohort)
    key = vc.load_issuer_key(key_path(cohort.root, cohort.settings))
    run.fingerprint = vc.fingerprint(key.did)
    titles = module_titles(cohort.root, modules)
    register = _register(cohort)
    folder.mkdir(parents=True, exist_ok=True)
    extra_fonts = [str(cohort.root / p) for p in cohort.settings.certificate_fonts]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    for row in complete:  # numbers are recorded before any file names them
        register.setdefault(row.id, {"id": str(uuid.uuid4()), "issued": now.isoformat(),
                                     "salt": vc.new_salt()})
    atomic_write_json(cohort.folder / REGISTER, register)
    for row in complete:
        entry = register[row.id]
        stem = f"certificate-{row.id}"
        files = {"credential": f"{stem}.credential.json", "html": f"{stem}.html",
                 "pdf": f"{stem}.pdf"}
        facts = _facts(cohort, row, titles, entry, run.fingerprint, files)
        credential = vc.sign(completion_credential(facts, key, row.email, entry), key,
                             facts["issued"])
        credential_path = folder / files["credential"]
        atomic_write_json(credential_path, credential)
        html_path = folder / files["html"]
        html_path.write_text(render("certificate.html.j2", **facts), encoding="utf-8")
        fonts = fonts_for(row.name, extra_fonts)
        pdf_path = write_certificate_pdf(folder / files["pdf"], facts, fonts, credential_path)
        run.issued.append(IssuedCertificate(row.id, row.name, facts["number"],
                                            [html_path, pdf_path, credential_path],
                                            fonts.missing))
    run.public_key = folder / PUBLIC_KEY
    atomic_write_json(run.public_key,
                      vc.public_key_document(key, cohort.settings.certificate_issuer))
    return run


def run_lines(run: CertificateRun, root: Path | None = None) -> list[str]:
    """What `certificates` says: whom it wrote for, where, and what to hand to verifiers."""
    def where(path: Path) -> str:
        try:
            return str(path.relative_to(root)) if root else str(path)
        except ValueError:
            return str(path)

    if not run.issued:
        return [f"No learner has completed every module yet ({run.not_complete} enrolled): no "
                "certificates written. `privacy-course status` shows who stands where."]
    lines = [f"Certificates for {len(run.issued)} learner(s), in {where(run.folder or Path())}:"]
    # Number first: names in some scripts take two terminal columns a letter, so no padding
    # lines them up.
    lines += [f"  {c.number}  {c.name} ({c.learner})" for c in run.issued]
    lines.append("  (each: certificate-<id>.html to print, .pdf, and .credential.json, the "
                 "signed credential)")
    if run.not_complete:
        lines.append(f"{run.not_complete} learner(s) have not completed every module yet.")
    for c in run.issued:
        if c.missing_letters:
            lines.append(
                f"Note: the PDF of {c.name} ({c.learner}) cannot show the letters "
                f"{' '.join(c.missing_letters)}: no font on this machine has them. The HTML "
                "certificate shows the name as typed. Install a font that has them (on "
                "Debian: fonts-noto-cjk for Chinese, Japanese and Korean, fonts-noto-core for "
                "most other scripts) or name one in c.CourseSettings.certificate_fonts, then "
                "run this again.")
    if run.public_key:
        lines.append(f"Issuer key fingerprint {run.fingerprint}: give {where(run.public_key)} "
                     "to anyone who checks a certificate (`privacy-course certificates verify "
                     "FILE --issuer-key issuer-public-key.json`).")
    return lines


def verify_certificate(path: Path, issuer_key: Path | None = None,
                       install_key: Path | None = None) -> tuple[bool, list[str]]:
    """Check one credential file offline; (genuine, what was found in plain words).

    The credential is compared with `issuer_key` (the public-key file the issuer handed out)
    or, without one, with this course installation's own key at `install_key`, if there is
    one. Genuine means: the signature matches the content (nothing changed since signing), it
    was made with the key of the issuer the credential names, and that key is the trusted one."""
    document = vc.read_credential(path)
    trusted: list[str] = []
    source = ""
    if issuer_key is not None:
        trusted, source = [vc.trusted_did(issuer_key)], f"the issuer key in {issuer_key}"
    elif install_key is not None and install_key.exists():
        try:
            trusted = [vc.load_issuer_key(install_key, create=False).did]
            source = "this course installation's issuer key"
        except vc.CredentialError:
            trusted = []
    result = vc.verify(document, trusted)
    if not result.signature_ok or not result.issuer_signed:
        return False, [f"NOT VALID: {path.name}: {result.problem}.",
                       "Do not accept it; ask the issuer for the original file."]
    facts = _describe(result.credential)
    key_words = f"fingerprint {vc.fingerprint(result.signer)}"
    if result.issuer_known:
        return True, [f"VALID: {path.name} is a genuine certificate credential, unchanged since "
                      "it was signed.", *facts, f"  Signed with {source} ({key_words})."]
    if result.issuer_known is False:
        why = (f"it was signed with a key that is not {source}: anyone can sign a credential "
               "with a key of their own")
    else:
        why = ("no issuer key was given to compare it with: run this again with --issuer-key "
               f"FILE, the {PUBLIC_KEY} the issuer hands out")
    return False, [f"NOT CONFIRMED: {path.name} is unchanged since it was signed, but {why}.",
                   *facts, f"  The key that signed it has the {key_words}; compare it with "
                   "the one printed on the certificate and in the issuer's key file."]


def _describe(credential: dict[str, Any]) -> list[str]:
    """The certificate's facts as the credential states them."""
    subject = credential.get("credentialSubject") or {}
    names = [i.get("identityHash") for i in subject.get("identifier", [])
             if isinstance(i, dict) and i.get("identityType") == "name"]
    issuer = credential.get("issuer") or {}
    achievement = subject.get("achievement") or {}
    try:
        number = certificate_number(str(credential.get("id", "")).removeprefix("urn:uuid:"))
    except ValueError:
        number = "(none)"
    issued = str(credential.get("validFrom", ""))[:10]
    hours = subject.get("creditsEarned")
    return [f"  Certificate number {number}, issued {issued} by "
            f"{issuer.get('name', '(no name)') if isinstance(issuer, dict) else issuer}",
            f"  to {names[0] if names else '(no name)'} for completing "
            f"\"{achievement.get('name', '')}\""
            + (f" ({hours:g} hours)." if isinstance(hours, int | float) else ".")]
