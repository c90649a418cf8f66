"""Paired CT: ``synth ct``, one image and its label per sample through NV-Generate-CTMR ``scripts.inference``."""
