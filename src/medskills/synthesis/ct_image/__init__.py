"""CT image only: ``synth ct-image``, one CT volume through ``scripts.diff_model_infer``."""
