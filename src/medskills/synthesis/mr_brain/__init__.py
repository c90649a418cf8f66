"""Brain MRI: ``synth mr-brain``, one MR volume through ``scripts.diff_model_infer``."""
