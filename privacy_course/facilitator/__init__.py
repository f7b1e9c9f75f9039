"""What a facilitator runs for a cohort: creating it from a roster, releasing, collecting and
returning feedback, completion, reports and certificates, purging.

Reads what grading recorded through `privacy_course.record`, never by importing the grader."""
