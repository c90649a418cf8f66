"""The half of ``ct-image`` and ``mr-brain`` that is NV-Generate-CTMR's ``scripts.diff_model_infer``: facts, staging, run."""
