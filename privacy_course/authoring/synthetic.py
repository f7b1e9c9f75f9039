"""A synthetic school district for the hands-on exercises: 2,400 made-up students.

Nothing here describes a real person. Names are drawn from short lists of common U.S. first and
last names, addresses are invented, and the ZIP codes use the prefix 696, which the U.S. Postal
Service does not assign. The shape is realistic on purpose, because the exercises need it:

- six schools (four elementary, one middle, one high), one of them small and rural;
- birth dates that follow a September 1 kindergarten cut-off, with a few students older or
  younger than their classmates (held back, or started early);
- the seven federal race/ethnicity categories, two of them small, so that small-cell
  suppression matters in school-level tables;
- English-learner, IEP and free/reduced-price-lunch flags, state-test scale scores for the
  tested grades (3-8 and 11) and an attendance rate;
- a discipline flag (suspended out of school at least once this year), rarer in the elementary
  schools and more common for students with an IEP, so that an outcome table by school and group
  has the small cells that do real harm.

`make_students()` is deterministic for a given seed, and
`python -m privacy_course.authoring.synthetic OUT.csv` writes the same bytes on every run
(fixed column order, no index, fixed number formats).
pandas and numpy are imported here only, never by `import privacy_course`.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
SCHOOL_YEAR_START = 2026  # the 2026-27 school year

COLUMNS = [
    "student_id", "first_name", "last_name", "street_address", "zip", "birth_date", "sex",
    "race_ethnicity", "school", "grade", "ell", "iep", "frl", "math_score", "reading_score",
    "attendance_rate", "suspended",
]

GRADES = ["K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
TESTED_GRADES = {"3", "4", "5", "6", "7", "8", "11"}

# Share of students suspended out of school at least once in the year, by kind of school; a
# student with an IEP is twice as likely to be suspended (made-up rates that only shape the data).
SUSPENSION_RATE = {"Elementary": 0.04, "Middle": 0.11, "High": 0.09}
IEP_SUSPENSION_FACTOR = 2.0

# school -> (grades served, share of the district's students in each of those grades,
#            ZIP codes and their weights, share of students eligible for free/reduced lunch)
SCHOOLS: dict[str, tuple[list[str], float, dict[str, float], float]] = {
    "Adams Elementary": (GRADES[:6], 0.33, {"69601": 0.7, "69602": 0.3}, 0.38),
    "Brook Elementary": (GRADES[:6], 0.29, {"69602": 0.6, "69603": 0.4}, 0.52),
    "Cedar Elementary": (GRADES[:6], 0.25, {"69603": 0.5, "69604": 0.5}, 0.61),
    "Delta Elementary": (GRADES[:6], 0.13, {"69615": 0.8, "69604": 0.2}, 0.57),
    "Riverside Middle": (GRADES[6:9], 1.0, {"69601": 0.3, "69602": 0.25, "69603": 0.2,
                                          "69604": 0.15, "69615": 0.1}, 0.49),
    "Riverside High": (GRADES[9:], 1.0, {"69601": 0.3, "69602": 0.25, "69603": 0.2,
                                       "69604": 0.15, "69615": 0.1}, 0.44),
}

RACE_ETHNICITY = {
    "White": 0.47,
    "Hispanic or Latino": 0.28,
    "Black or African American": 0.08,
    "Two or more races": 0.07,
    "Asian": 0.06,
    "American Indian or Alaska Native": 0.025,
    "Native Hawaiian or Other Pacific Islander": 0.015,
}

FIRST_NAMES = {
    "F": ["Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn",
          "Camila", "Sofia", "Aaliyah", "Maya", "Zoe", "Layla", "Nora", "Lucia", "Mei", "Priya",
          "Valentina", "Leah", "Grace", "Ximena", "Hana", "Imani", "Ruby", "Chloe", "Elena"],
    "M": ["Liam", "Noah", "Oliver", "Elijah", "James", "Mateo", "Lucas", "Benjamin", "Ethan",
          "Santiago", "Jayden", "Aiden", "Daniel", "Kai", "Isaiah", "Leo", "Diego", "Wei",
          "Arjun", "Caleb", "Owen", "Samuel", "Adrian", "Malik", "Hiro", "Miles", "Jonah",
          "Gabriel"],
}
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Patel", "Chen", "Begay",
    "Tsosie", "Kealoha", "Fonoti", "Okafor", "Haddad", "Novak",
]
STREETS = ["Maple", "Oak", "Cedar", "Pine", "Elm", "Willow", "Birch", "Aspen", "River", "Mill",
           "Lake", "Hill", "Park", "Meadow", "Orchard", "Spring", "Church", "Main", "Ridge",
           "Valley"]
STREET_TYPES = ["St", "Ave", "Rd", "Ln", "Dr", "Ct", "Way"]


def _grade_cohort_start(grade: str) -> date:
    """First birth date of the students normally in `grade` (September 1 cut-off)."""
    offset = 0 if grade == "K" else int(grade)
    return date(SCHOOL_YEAR_START - 5 - offset - 1, 9, 2)


def _pick(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return rng.choice(np.array(keys, dtype=object), size=size, p=p / p.sum())


def make_students(n: int = 2400, seed: int = SEED) -> pd.DataFrame:
    """A synthetic district of `n` students, the same for the same `n` and `seed`.

    One row per student, columns in the order of `COLUMNS`, sorted by `student_id`. Scores are
    blank outside the tested grades (3-8 and 11)."""
    rng = np.random.default_rng(seed)

    # Students per grade: a little larger in the lower grades, as in many districts.
    grade_weights = np.linspace(1.08, 0.92, len(GRADES))
    per_grade = np.floor(n * grade_weights / grade_weights.sum()).astype(int)
    per_grade[: n - per_grade.sum()] += 1

    rows: list[dict[str, object]] = []
    for grade, count in zip(GRADES, per_grade, strict=True):
        schools = [s for s, (grades, *_rest) in SCHOOLS.items() if grade in grades]
        shares = np.array([SCHOOLS[s][1] for s in schools], dtype=float)
        sizes = np.floor(count * shares / shares.sum()).astype(int)
        sizes[: count - sizes.sum()] += 1
        for school, size in zip(schools, sizes, strict=True):
            for _ in range(size):
                rows.append({"school": school, "grade": grade})
    frame = pd.DataFrame(rows)
    total = len(frame)

    frame["sex"] = rng.choice(np.array(["F", "M"], dtype=object), size=total, p=[0.49, 0.51])

    # Birth dates: most students fall in their grade's 12-month window; about 4% are a year
    # older (held back or started late) and about 1% a year younger.
    shift = rng.choice([0, 1, -1], size=total, p=[0.95, 0.04, 0.01])
    day = rng.integers(0, 365, size=total)
    frame["birth_date"] = [
        (_grade_cohort_start(g).replace(year=_grade_cohort_start(g).year - s)
         + timedelta(days=int(d))).isoformat()
        for g, s, d in zip(frame["grade"], shift, day, strict=True)
    ]

    frame["zip"] = ""
    frame["frl"] = ""
    for school, (_grades, _share, zips, frl_rate) in SCHOOLS.items():
        mask = (frame["school"] == school).to_numpy()
        frame.loc[mask, "zip"] = _pick(rng, zips, int(mask.sum()))
        frame.loc[mask, "frl"] = np.where(rng.random(int(mask.sum())) < frl_rate, "Y", "N")

    frame["race_ethnicity"] = _pick(rng, RACE_ETHNICITY, total)

    # English learners: more common in the early grades and among Hispanic and Asian students.
    grade_number = frame["grade"].replace({"K": "0"}).astype(int).to_numpy()
    base = np.where(frame["race_ethnicity"].isin(["Hispanic or Latino", "Asian"]), 0.24, 0.03)
    ell_rate = base * np.where(grade_number <= 5, 1.3, 0.7)
    frame["ell"] = np.where(rng.random(total) < ell_rate, "Y", "N")
    frame["iep"] = np.where(rng.random(total) < 0.14, "Y", "N")

    # Scale scores (state-test style, roughly 300-700) for tested grades only.
    tested = frame["grade"].isin(TESTED_GRADES).to_numpy()
    support = (frame["frl"].eq("Y").astype(float) * -18 + frame["iep"].eq("Y").astype(float)
               * -35 + frame["ell"].eq("Y").astype(float) * -22).to_numpy()
    ability = rng.normal(0, 1, total)
    math = 500 + support + 45 * ability + rng.normal(0, 25, total)
    reading = 500 + support + 45 * ability + rng.normal(0, 25, total)
    frame["math_score"] = np.where(tested, np.clip(np.round(math), 300, 700), np.nan)
    frame["reading_score"] = np.where(tested, np.clip(np.round(reading), 300, 700), np.nan)

    attendance = 1 - rng.beta(1.3, 18, total)
    frame["attendance_rate"] = np.round(np.clip(attendance, 0.55, 1.0), 3)

    frame["first_name"] = [rng.choice(FIRST_NAMES[s]) for s in frame["sex"]]
    frame["last_name"] = rng.choice(np.array(LAST_NAMES, dtype=object), size=total)
    frame["street_address"] = [
        f"{int(number)} {STREETS[int(a)]} {STREET_TYPES[int(b)]}"
        for number, a, b in zip(rng.integers(100, 9900, total),
                                rng.integers(0, len(STREETS), total),
                                rng.integers(0, len(STREET_TYPES), total), strict=True)
    ]
    ids = rng.choice(np.arange(2_000_000, 2_999_999), size=total, replace=False)
    frame["student_id"] = [str(int(i)) for i in ids]

    # Drawn last, so that adding it left every column above unchanged.
    level = frame["school"].str.split().str[-1].map(SUSPENSION_RATE).to_numpy(dtype=float)
    rate = level * np.where(frame["iep"].eq("Y").to_numpy(), IEP_SUSPENSION_FACTOR, 1.0)
    frame["suspended"] = np.where(rng.random(total) < rate, "Y", "N")

    frame = frame[COLUMNS].sort_values("student_id", kind="stable").reset_index(drop=True)
    frame["math_score"] = frame["math_score"].astype("Int64")
    frame["reading_score"] = frame["reading_score"].astype("Int64")
    return frame


def write_csv(frame: pd.DataFrame, path: Path | str) -> None:
    """Write `frame` as CSV the same way every time: UTF-8, '\\n' line ends, no index."""
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.3f")


def main(argv: list[str] | None = None) -> int:
    """`python -m privacy_course.authoring.synthetic OUT.csv [N]`: write the synthetic district."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: python -m privacy_course.authoring.synthetic OUT.csv [N]", file=sys.stderr)
        return 2
    n = int(args[1]) if len(args) == 2 else 2400
    write_csv(make_students(n), args[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
