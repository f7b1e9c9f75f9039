# nbgrader reads only a file of this name. The course's configuration is grader_config.py;
# this file just loads it, so `nbgrader ...` run from this folder grades the right gradebook.
c = get_config()  # noqa: F821
load_subconfig("grader_config.py")  # noqa: F821
