"""The registry of the document's sections, in the order the document sets them.

The run's protocol comes first, then how every score of the run compares (the scores of
every paper side by side), then one section per paper (or per space of a paper); the
"not reproduced" section closes the document (the assembly writes it last, from what the
others did not draw or compute). Each entry is the ``SECTION`` of one module, a
:class:`~zeroshot_nas.paper.document.Section` holding everything the section owns: its
tables (DataFrames, CSVs and ``.tex``), the claims it checks and its TeX. A new paper or a
new space's section is one such module, its published values and catalogue entries in
``paper/published.yaml``, and its line here.
"""

from __future__ import annotations

from . import compare, nb101, nwot, protocol, ps, rb, ssnr
from .document import Section

SECTIONS: tuple[Section, ...] = (
    protocol.SECTION,
    compare.SECTION,
    ps.SECTION,
    rb.SECTION,
    nwot.SECTION,
    ssnr.SECTION,
    nb101.SECTION,
)
