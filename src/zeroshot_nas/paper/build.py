"""The PDF: ``latexmk`` on the paper's ``main.tex`` beside the run's generated pieces."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from zeroshot_nas.errors import UserError

from .published import PAPER_DIR

TEX_PACKAGES = ("latexmk texlive-latex-recommended texlive-latex-extra "
                "texlive-fonts-recommended lmodern")


def latexmk() -> str | None:
    return shutil.which("latexmk")


def build_pdf(main_tex: Path, generated: Path, pdf_out: Path) -> Path:
    """Build ``pdf_out`` from ``main_tex`` with the run's ``generated`` folder beside it.

    LaTeX runs in ``pdf_out``'s folder (where ``generated/`` is expected, and from which the
    figure paths of the generated pieces are relative); its log is kept as ``main.log``
    there. Raises UserError naming the log when LaTeX fails.
    """
    tool = latexmk()
    if tool is None:
        raise UserError(f"latexmk not found: install it to build the PDF (Debian/Ubuntu: "
                        f"apt-get install {TEX_PACKAGES})")
    # absolute: LaTeX runs inside the folder, so a relative -outdir would point elsewhere
    folder = pdf_out.parent.resolve()
    pdf_out = folder / pdf_out.name
    if generated.resolve() != (folder / "generated").resolve():
        raise ValueError(f"the generated pieces must be in {folder / 'generated'}, not {generated}")
    with tempfile.TemporaryDirectory(prefix="latex-", dir=folder) as build:
        shutil.copyfile(main_tex, folder / "main.tex")
        cmd = [tool, "-pdf", "-interaction=nonstopmode", "-halt-on-error",
               f"-outdir={build}", "main.tex"]
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, check=False)
        log = Path(build) / "main.log"
        if log.exists():
            shutil.copyfile(log, folder / "main.log")
        pdf = Path(build) / "main.pdf"
        if proc.returncode != 0 or not pdf.exists():
            raise UserError(f"latexmk failed (exit {proc.returncode}); see {folder / 'main.log'}:"
                            f"\n{proc.stdout[-2000:]}")
        shutil.move(pdf, pdf_out)
    return pdf_out


def build_repo_paper(generated: Path, pdf_out: Path) -> Path:
    """:func:`build_pdf` with the repository's ``paper/main.tex``."""
    return build_pdf(PAPER_DIR / "main.tex", generated, pdf_out)
