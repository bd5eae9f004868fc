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

__all__ = ["tf"]
