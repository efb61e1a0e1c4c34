"""Work-arounds for Snakemake defects this workflow meets, applied when the Snakefile is read.

Each names the defect, the Snakemake version it was seen in and what a user would see
without it; remove it once the pinned Snakemake fixes the defect (the tests that need it
fail then, so the removal is noticed).
"""

from __future__ import annotations

_QUOTED = "_zeroshot_nas_quoted"


def quote_script_interpreter() -> None:
    """Quote the interpreter of ``script:`` rules in the shell command Snakemake builds.

    Snakemake 9.27.1 runs a Python script as ``"{py_exec} {fname:q}"``
    (``snakemake/script/__init__.py``, ``PythonScript.execute_script``; upstream issue
    snakemake/snakemake#2645, open): the script's path is quoted, the interpreter's
    (``sys.executable``) is not, so a checkout whose ``.venv`` lies under a folder with a
    space fails every rule with ``bash: …/sp: No such file or directory``.
    """
    from snakemake.script import PythonScript

    original = PythonScript._execute_cmd
    if getattr(original, _QUOTED, False):
        return

    def execute_cmd(self, cmd, **kwargs):
        if "py_exec" in kwargs:
            cmd = cmd.replace("{py_exec}", "{py_exec:q}")
        return original(self, cmd, **kwargs)

    setattr(execute_cmd, _QUOTED, True)
    PythonScript._execute_cmd = execute_cmd
