"""Readers: one module per findings format, each returning a list of Findings.

* :mod:`.text`   - ``--finding "ALK G1202R"`` and table cells
* :mod:`.vcf`    - VCF 4.x, VEP (CSQ) / snpEff (ANN) annotated or matched by coordinates
* :mod:`.maf`    - MAF (GDC / cBioPortal)
* :mod:`.tables` - simple CSV/TSV findings, fusion calls, copy-number calls
"""
