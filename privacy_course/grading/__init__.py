"""Grading a cohort's submissions: intake of untrusted files, the sandboxed kernel, trusted
re-scoring, integrity checks, sanitized feedback and the parallel cohort grader.

Imports the learner and authoring rooms, never the facilitator room."""
