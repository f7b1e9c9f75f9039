"""Certificates a district can accept: every name printed as typed in the PDF, module titles,
issuer and signer from the settings, a unique number, and a signed credential that
`privacy-course certificates verify` checks offline (and refuses when altered or signed by
another key)."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from markupsafe import escape

from privacy_course.authoring.build import module_ids
from privacy_course.cli import main
from privacy_course.coursedir import Cohort
from privacy_course.facilitator import credentials as vc
from privacy_course.facilitator.certificate_pdf import fonts_for
from privacy_course.facilitator.certificates import (
    CertificateError,
    key_path,
    run_lines,
    write_certificates,
)
from privacy_course.facilitator.completion import (
    BELOW_PASS,
    COMPLETE,
    LearnerRow,
    ModuleResult,
)

from .conftest import ROOT, copy_course

SETTINGS = ('c.CourseSettings.certificate_issuer = "Springfield Public Schools"\n'
            'c.CourseSettings.certificate_signer = "Dr. María José Pérez"\n'
            'c.CourseSettings.certificate_signer_title = "Director of Professional Learning"\n')
NAMES = {  # learner id: (first name, last name) as a roster has them
    "lan": ("Thị Lan", "Nguyễn"),
    "fatima": ("فاطمة", "الزهراء"),
    "wang": ("小明", "王"),
    "zoe": ("Zoë", "O'Brien-Łukasiewicz"),
    "darcy": ("Siobhán", "D'Arcy"),
}
# Bidirectional controls pdftotext puts around right-to-left text.
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def rows_for(modules: list[str], names: dict[str, tuple[str, str]],
             state: str = COMPLETE) -> list[LearnerRow]:
    """Completion rows as `completion()` returns them for learners who finished every module
    on consecutive January days."""
    return [LearnerRow(learner, first, last, f"{learner}@District.Example.org",
                       {m: ModuleResult(learner, m, state, 6.0, 6.0,
                                        datetime(2027, 1, 11 + i, 16, 30))
                        for i, m in enumerate(modules)})
            for learner, (first, last) in names.items()]


def make_course(dest: Path, settings: str = SETTINGS) -> Path:
    root = copy_course(dest)
    with (root / "grader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(settings)
    return root


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cohort, object, list[str]]:
    root = make_course(tmp_path_factory.mktemp("certificates") / "course")
    cohort = Cohort(root, "spring")
    modules = module_ids(root)
    run = write_certificates(cohort, rows_for(modules, NAMES), modules,
                             root / "reports" / "spring-certificates")
    return cohort, run, modules


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(BIDI.sub("", text).split())


def test_every_name_prints_as_typed_in_the_pdf(issued):
    _, run, _ = issued
    assert sorted(c.learner for c in run.issued) == sorted(NAMES)
    for cert in run.issued:
        html, pdf, credential = cert.files
        first, last = NAMES[cert.learner]
        assert cert.name == f"{first} {last}"
        assert cert.name in pdf_text(pdf), cert.learner
        assert cert.missing_letters == ""
        assert f'<p class="name">{escape(cert.name)}</p>' in html.read_text(encoding="utf-8")
    # The fonts are embedded (a reader without them sees the same page).
    fonts = subprocess.run(["pdffonts", str(run.issued[0].files[1])], capture_output=True,
                           text=True, check=True).stdout
    assert "DejaVuSans" in fonts and all(line.split()[-5] == "yes"
                                         for line in fonts.splitlines()[2:])


def test_certificate_names_issuer_signer_titles_hours_and_number(issued):
    cohort, run, modules = issued
    cert = next(c for c in run.issued if c.learner == "lan")
    text = pdf_text(cert.files[1])
    html = cert.files[0].read_text(encoding="utf-8")
    for page in (text, " ".join(html.split())):
        assert "SPRINGFIELD PUBLIC SCHOOLS" in page.upper()
        assert "Certificate of Completion" in page
        assert "Dr. María José Pérez" in page and "Director of Professional Learning" in page
        assert "Module 6: Metadata, de-identification and disclosure avoidance" in page
        assert "m06-deidentification" not in page  # titles, not ids
        assert "6 professional-development hours" in page  # 0.75 x 8 modules
        assert "completed January 18, 2027" in page  # the last module's submission
        assert cert.number in page and run.fingerprint in page
    assert re.fullmatch(r"PC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}",
                        cert.number)
    assert len({c.number for c in run.issued}) == len(run.issued)
    assert "@page { size: letter landscape" in html  # print-ready


def test_the_credential_is_an_open_badge_that_verifies(issued):
    cohort, run, _ = issued
    cert = next(c for c in run.issued if c.learner == "lan")
    credential = json.loads(cert.files[2].read_text(encoding="utf-8"))
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["@context"] == [vc.VC_CONTEXT, vc.OB_CONTEXT]
    assert credential["issuer"]["name"] == "Springfield Public Schools"
    subject = credential["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "CertificateOfCompletion"
    assert subject["creditsEarned"] == 6
    name, email = subject["identifier"]
    assert name["identityHash"] == "Thị Lan Nguyễn" and name["hashed"] is False
    # The email is only there as a salted hash (of the lower-cased address).
    assert "lan@" not in json.dumps(credential).lower()
    assert email["identityHash"] == vc.hashed_identity("lan@district.example.org",
                                                       email["salt"])
    result = vc.verify(credential, [credential["issuer"]["id"]])
    assert result.ok and result.signature_ok and result.issuer_signed
    # The public half exported for verifiers names the same key.
    exported = json.loads(run.public_key.read_text(encoding="utf-8"))
    assert exported["id"] == credential["issuer"]["id"]
    assert exported["fingerprint"] == run.fingerprint
    assert "PRIVATE" not in json.dumps(exported)


def test_writing_again_keeps_numbers_and_credentials(issued):
    cohort, run, modules = issued
    before = {c.learner: (c.number, c.files[2].read_bytes()) for c in run.issued}
    again = write_certificates(cohort, rows_for(modules, NAMES), modules, run.folder)
    assert {c.learner: (c.number, c.files[2].read_bytes()) for c in again.issued} == before


def test_the_signing_key_is_private_and_never_committed(issued):
    cohort, _, _ = issued
    key = key_path(cohort.root, cohort.settings)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "-q",
                              ".certificate-key/issuer-key.pem"])
    assert ignored.returncode == 0


def test_a_key_others_can_read_is_refused(tmp_path: Path):
    key = tmp_path / "issuer-key.pem"
    vc.load_issuer_key(key)
    key.chmod(0o644)
    with pytest.raises(vc.CredentialError, match="can be read by other accounts.*chmod 600"):
        vc.load_issuer_key(key)


def verify(capsys, *args: str) -> tuple[int, str]:
    code = main(["certificates", "verify", *args])
    return code, capsys.readouterr().out


def test_verify_says_in_words_what_it_found(issued, tmp_path: Path, capsys, monkeypatch):
    cohort, run, _ = issued
    cert = next(c for c in run.issued if c.learner == "fatima")
    monkeypatch.chdir(cohort.root)  # this installation's key is the trusted one
    code, out = verify(capsys, str(cert.files[2]))
    assert code == 0, out
    assert out.startswith("VALID: certificate-fatima.credential.json is a genuine certificate")
    assert f"Certificate number {cert.number}" in out and "to فاطمة الزهراء" in out
    assert "this course installation's issuer key" in out and run.fingerprint in out

    # Altered after signing: a name changed by hand.
    altered = tmp_path / "altered.credential.json"
    data = json.loads(cert.files[2].read_text(encoding="utf-8"))
    data["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    altered.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out = verify(capsys, str(altered), "--issuer-key", str(run.public_key))
    assert code == 1
    assert out.startswith("NOT VALID: altered.credential.json: its signature does not match "
                          "its content: something in it was changed after it was signed.")

    # Not a credential at all.
    (tmp_path / "notes.json").write_text("{not json", encoding="utf-8")
    assert main(["certificates", "verify", str(tmp_path / "notes.json")]) == 2
    assert "is not a credential file" in capsys.readouterr().err


def test_a_credential_from_another_key_is_not_confirmed(issued, tmp_path: Path, capsys,
                                                        monkeypatch):
    """Someone else's installation (or a forger) signs a credential that names the same issuer:
    the signature is sound, but the key is not the issuer's key the verifier was given."""
    cohort, run, modules = issued
    other_root = make_course(tmp_path / "other")
    other = write_certificates(Cohort(other_root, "spring"),
                               rows_for(modules, {"lan": NAMES["lan"]}), modules,
                               other_root / "reports" / "certs")
    forged = other.issued[0].files[2]
    monkeypatch.chdir(tmp_path)  # outside any course folder
    code, out = verify(capsys, str(forged), "--issuer-key", str(run.public_key))
    assert code == 1
    assert out.startswith("NOT CONFIRMED: certificate-lan.credential.json is unchanged since it "
                          "was signed, but it was signed with a key that is not the issuer key "
                          "in ")
    code, out = verify(capsys, str(forged))
    assert code == 1 and "no issuer key was given to compare it with" in out


def test_the_w3c_eddsa_jcs_2022_test_vector(tmp_path: Path):
    """The signing reproduces the proof of the W3C "Data Integrity EdDSA Cryptosuites v1.0"
    test vector (TestVectors/eddsa-jcs-2022/signedJCS.json, key TestVectors/keyPair.json)."""
    key = vc.IssuerKey.from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert key.did == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh",
                              "alumniOf": "The School of Examples"},
    }
    signed = vc.sign(unsigned, key, datetime(2023, 2, 24, 23, 36, 38))
    assert signed["proof"]["proofValue"] == (
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX")
    result = vc.verify(signed)
    # The signature is sound; the issuer there is a web address, not the signing did:key, so
    # the course's verifier (which checks offline) does not take it as the issuer's.
    assert result.signature_ok and not result.issuer_signed and not result.ok


def test_issuer_and_signer_must_be_set(tmp_path: Path):
    root = make_course(tmp_path / "course", settings="")
    modules = module_ids(root)
    with pytest.raises(CertificateError) as err:
        write_certificates(Cohort(root, "spring"), rows_for(modules, {"lan": NAMES["lan"]}),
                           modules, tmp_path / "out")
    assert 'c.CourseSettings.certificate_issuer = "..."' in str(err.value)
    assert 'c.CourseSettings.certificate_signer = "..."' in str(err.value)
    assert not (tmp_path / "out").exists() and not (root / ".certificate-key").exists()


def test_nobody_complete_means_no_certificates_and_no_key(tmp_path: Path):
    root = make_course(tmp_path / "course", settings="")  # no issuer needed yet
    modules = module_ids(root)
    run = write_certificates(Cohort(root, "spring"),
                             rows_for(modules, {"lan": NAMES["lan"]}, state=BELOW_PASS),
                             modules, tmp_path / "out")
    assert run.issued == [] and run.not_complete == 1
    assert run_lines(run)[0].startswith("No learner has completed every module yet")
    assert not (root / ".certificate-key").exists()


def test_certificates_says_whom_it_wrote_for(issued):
    cohort, run, _ = issued
    lines = run_lines(run, cohort.root)
    assert lines[0] == "Certificates for 5 learner(s), in reports/spring-certificates:"
    lan = next(c for c in run.issued if c.learner == "lan")
    assert f"  {lan.number}  Thị Lan Nguyễn (lan)" in lines
    assert f"Issuer key fingerprint {run.fingerprint}" in lines[-1]


def test_a_letter_no_font_has_is_reported(tmp_path: Path):
    """An Egyptian hieroglyph is in no font Debian installs by default: the PDF is still
    written, and `certificates` names whose PDF lacks which letters."""
    name = ("Ankh", "\U00013000")
    assert fonts_for("".join(name)).missing == "\U00013000"
    root = make_course(tmp_path / "course")
    modules = module_ids(root)
    run = write_certificates(Cohort(root, "spring"), rows_for(modules, {"ankh": name}),
                             modules, tmp_path / "out")
    assert run.issued[0].missing_letters == "\U00013000"
    assert run.issued[0].files[1].read_bytes().startswith(b"%PDF")
    note = next(line for line in run_lines(run) if line.startswith("Note:"))
    assert "the PDF of Ankh \U00013000 (ankh) cannot show the letters \U00013000:" in note
    assert "fonts-noto" in note


def test_an_extra_font_setting_is_used_first(tmp_path: Path):
    """A font named in c.CourseSettings.certificate_fonts serves letters DejaVu lacks."""
    found = fonts_for("王小明")
    assert found.missing == "" and found.fallbacks  # from fontconfig on this machine
    own = tmp_path / "my-font.ttc"
    shutil.copy(found.fallbacks[0][0], own)
    assert fonts_for("王小明", [str(own)]).fallbacks[0] == (str(own), 0)


def test_no_font_search_without_fontconfig(tmp_path: Path, monkeypatch):
    """On a machine without fontconfig only the configured fonts are tried."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert set(fonts_for("王小明").missing) == set("王小明")
