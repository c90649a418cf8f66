"""CT from a mask: ``synth ct-from-mask``, a CT for a user label map through ``scripts.infer_image_from_mask``."""
