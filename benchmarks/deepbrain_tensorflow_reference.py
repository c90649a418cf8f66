"""Reference numbers of deepbrain's own TensorFlow graph on mr_brain_t1, for the PyTorch port's test.

Run in a separate venv (TensorFlow is not a medskills dependency):

    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu scikit-image nibabel
    /tmp/tf/bin/pip install --no-deps deepbrain==0.1
    /tmp/tf/bin/python benchmarks/deepbrain_tensorflow_reference.py ../shared/data/mr_brain_t1/image.nii.gz

It follows ``deepbrain.Extractor.run`` (resize to 128^3, divide by the max, run, resize back) through
``tensorflow.compat.v1`` and prints JSON: the probability sum and voxel count above 0.5 at 128^3 and on
the full grid, and probabilities at fixed probe voxels. ``benchmarks/results/deepbrain_tensorflow_reference.json``
holds the output; ``tests/integration/pretrained/test_deepbrain.py`` compares the port with it.
"""

from __future__ import annotations

import json
import sys
from importlib import resources

import nibabel as nib
import numpy as np
import tensorflow as tf
from skimage.transform import resize

PROBES_128 = [(64, 64, 64), (40, 70, 60), (90, 50, 70), (64, 100, 30), (20, 64, 64), (64, 64, 110), (75, 80, 90)]


def main(path: str) -> None:
    graph_path = resources.files("deepbrain") / "models" / "graph.pb"
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def)
    session = tf.compat.v1.Session(graph=graph)
    image = np.asanyarray(nib.load(path).dataobj)
    small = resize(image, (128, 128, 128), mode="constant", anti_aliasing=True)
    small = (small / np.max(small)).reshape(1, 128, 128, 128, 1)
    prob = session.run(graph.get_tensor_by_name("import/prob:0"),
                       feed_dict={graph.get_tensor_by_name("import/training:0"): False,
                                  graph.get_tensor_by_name("import/img:0"): small}).squeeze()
    full = resize(prob, image.shape, mode="constant", anti_aliasing=True)
    print(json.dumps({
        "tensorflow_version": tf.__version__,
        "input_shape": list(image.shape),
        "network_input_sum": float(small.sum()),
        "probability_128_sum": float(prob.astype(np.float64).sum()),
        "mask_128_voxels": int((prob > 0.5).sum()),
        "probes_128": {",".join(map(str, p)): float(prob[p]) for p in PROBES_128},
        "mask_full_voxels": int((full > 0.5).sum()),
        "probability_full_sum": float(full.astype(np.float64).sum()),
    }, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
