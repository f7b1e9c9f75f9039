"""`privacy-course`: the command line. Thin: each subcommand calls one function of the package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ConfigError, find_course_root


def _cmd_build(args: argparse.Namespace) -> int:
    from .build import BuildError, build, check
    from .content import ContentError

    root = find_course_root()
    try:
        if args.check:
            result = check(root)
            if result.ok:
                print("source/ and release/ are up to date.")
                return 0
            print("Stale files (run `privacy-course build` and commit the result):")
            for line in result.stale:
                print(f"  {line}")
            return 1
        built = build(root, modules=args.modules or None)
    except (BuildError, ContentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Built {len(built)} module(s): {', '.join(built)}")
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    from .start import start

    return start(find_course_root(), workspace=args.workspace, port=args.port,
                 open_browser=not args.no_browser)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="privacy-course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build source/ and release/ from modules/")
    p.add_argument("modules", nargs="*", help="module ids (default: all)")
    p.add_argument("--check", action="store_true",
                   help="build into a temporary folder and fail if committed trees differ")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("start", help="open the learner's JupyterLab on the course")
    p.add_argument("--workspace", type=Path, default=None,
                   help="the learner's folder (default: learner/ in the course folder)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(func=_cmd_start)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
