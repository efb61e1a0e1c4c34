"""The project's error for problems a user can fix (a bad input, a missing file, a failed
download): the command line prints its message alone, without a traceback, and exits 2.

Anything else (a bug, torch's own RuntimeError) keeps its traceback in the job's log.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, files or environment; the message says which and how
    to recover."""
