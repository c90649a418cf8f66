"""CT masks only: ``synth ct-mask``, label maps from NV-Generate-CTMR's mask-generation stage."""
