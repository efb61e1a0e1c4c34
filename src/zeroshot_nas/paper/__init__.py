"""Everything that writes TeX: the published values we compare with, the escaper, the
tables and figure snippets of the paper document, the search tables' LaTeX, the PDF build."""
