"""Plain text to LaTeX."""

from __future__ import annotations

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "Σ": r"$\Sigma$", "ρ": r"$\rho$", "τ": r"$\tau$", "²": r"$^2$", "±": r"$\pm$",
    "−": "-", "≥": r"$\geq$", "≤": r"$\leq$", "×": r"$\times$", "–": "--", "η": r"$\eta$",
    "↓": r"$\downarrow$",
}


def tex_escape(text: object) -> str:
    """Escape plain text for LaTeX (special characters and the Greek letters we print)."""
    parts = str(text).split("Σ_J")  # the Jacobian correlation matrix, as a subscript
    return r"$\Sigma_J$".join("".join(_TEX_ESCAPES.get(ch, ch) for ch in p) for p in parts)
