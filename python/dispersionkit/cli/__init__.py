"""The ``dispersionkit`` command.

    dispersionkit demo [--out DIR]                 the bundled data end to end, report in DIR
    dispersionkit backtest --spots F --index F ... a backtest on your files (--config F.toml)
    dispersionkit scan                             today's regime, correlations, premium, signals
    dispersionkit stress                           spot x vol x correlation grid of today's trade
    dispersionkit risk                             P&L distribution of today's book held to expiry
    dispersionkit report DIR                       rebuild the report from a saved result
    dispersionkit bench                            speedup of the core over the NumPy reference

``demo`` runs offline on the bundled S&P 500 data and prints, after what it assumes (implied
vols are modelled: VIX where available), the regime on the last date, implied vs realized and
forward-realized correlation, the last date's book, and the backtest under several assumed
correlation premia side by side, by sub-period, with its complete P&L explain
(:mod:`dispersionkit.demo`); then it writes the report.

Every command takes ``--quiet`` (no progress bars); bars go to stderr and only when it is a
terminal. Bad input exits with status 2 and a one-line message on stderr; a closed pipe
(``dispersionkit demo | head``) ends quietly with status 141. docs/cli.md has the details.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from . import commands, demo

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

_COMMANDS = {
    "demo": ("backtest the bundled data, print the results and write a report", demo.configure, demo.run),
    "backtest": ("backtest your own data files", commands.configure_backtest, commands.run_backtest),
    "scan": (
        "today's regime, implied vs realized correlation, premium and signals",
        commands.configure_scan,
        commands.run_scan,
    ),
    "stress": ("spot x vol x correlation stress grid of today's trade", commands.configure_stress, commands.run_stress),
    "risk": ("P&L distribution of today's book held to expiry", commands.configure_risk, commands.run_risk),
    "report": ("rebuild the HTML report from a saved result", commands.configure_report, commands.run_report),
    "bench": ("speedup of the C++ core over the NumPy reference", commands.configure_bench, commands.run_bench),
}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless the help states it, or there is none to show)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
            or isinstance(action, argparse._VersionAction)
        ):
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dispersionkit",
        description="Equity dispersion trading toolkit.",
        epilog="Run 'dispersionkit COMMAND --help' for a command's options.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"dispersionkit {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, configure, _) in _COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=help_text, description=help_text, parents=[common], formatter_class=_Formatter
        )
        configure(sub)
    return parser


def main(argv: list[str] | None = None, out=None) -> int:
    """Entry point of the ``dispersionkit`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stream = sys.stdout if out is None else out
    try:
        status = _COMMANDS[args.command][2](args, stream)
        stream.flush()
        return status
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop writing, and keep Python's exit-time flush of
        # stdout from raising again on the closed pipe.
        if out is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(f"dispersionkit {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, ImportError) as error:
        # The library's named input errors (e.g. --budget 2, a bad file): a message, not a traceback.
        message = " ".join(str(error).split())
        parser.exit(EXIT_BAD_INPUT, f"dispersionkit {args.command}: error: {message}\n")
    raise AssertionError("unreachable")  # parser.exit raises SystemExit
