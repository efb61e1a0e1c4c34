"""Everything that writes TeX: the published values we compare with, the escaper, one module
per paper (its tables, claims and section) in the registry of sections (``sections``), the
pieces they share, the assembly of the paper document, the search tables' LaTeX, the PDF
build."""
