"""Import TensorFlow quietly.

TensorFlow 2.21 writes timestamped log lines to stderr at import unless both
``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0`` are set before its first
import. Every module of the kit imports this one before TensorFlow or Keras, so a
notebook's output stays clean (and nbval stays stable).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")

# The kit's models are tiny: one thread per op and two ops side by side is faster
# than splitting each small matrix product across threads (benchmarks/bench_engine.py
# measures it; the figures are in benchmarks/results.md).
# Set TF_NUM_INTRAOP_THREADS yourself to override.
if "TF_NUM_INTRAOP_THREADS" not in os.environ:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:  # TensorFlow was already running: keep its settings
        pass

__all__ = ["tf"]
