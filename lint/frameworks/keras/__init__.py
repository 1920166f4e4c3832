"""Keras 3 (and tf.keras) as a second frontend of the engine: the layer table (layers.py,
layers_seq.py), the values the interpreter computes with when it evaluates model-building code
(model.py), the runs planned for a file (frontend.py) and `model.summary()` rendering (summary.py).
Nothing here imports keras, tensorflow or torch."""

PREFIXES = ("keras.", "tensorflow.keras.", "tf.keras.", "tf_keras.")


def is_keras_name(name: str) -> bool:
    return name.startswith(PREFIXES) or name in ("keras", "tensorflow.keras", "tf_keras")
