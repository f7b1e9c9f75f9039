"""What a learner's notebook runs: the module page, its widgets, the responses store, the checks
its test cells call, and the disclosure checks of the de-identification exercise.

Nothing here imports the grading or facilitator rooms: a learner's kernel stays light."""
