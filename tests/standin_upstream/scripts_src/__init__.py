"""Stand-in for NV-Generate-CTMR's ``scripts`` package (tests only; never shipped)."""
