"""keras.io "Image classification with Vision Transformer" (Khalid Salama), in kerasish.

The Keras 3 script's model: images -> data augmentation (Normalization,
Resizing, RandomFlip, RandomRotation, RandomZoom) -> ``Patches`` (square
patches cut by ``keras.ops.image.extract_patches`` and flattened) ->
``PatchEncoder`` (a Dense projection plus a learned position ``Embedding``)
-> transformer blocks (LayerNormalization, MultiHeadAttention, Add,
LayerNormalization, a GELU MLP with Dropout, Add) -> LayerNormalization,
Flatten, Dropout and a GELU MLP head -> class logits. AdamW, sparse
categorical crossentropy from logits, accuracy and top-5 accuracy.

No download: instead of CIFAR-100 the images are generated (seeded): each
class is a fixed random 32x32x3 pattern, and a sample is its class's pattern
plus noise, so a small model learns it in a few epochs. The original's sizes
(72-pixel inputs, 8 blocks of width 64, a 2048-1024 head) are the options'
upper range; the defaults are small so that the script runs in seconds on CPU.

``make_model(keras, ...)`` holds the script's lines as a function of the
library, so that tests build the same model with Keras 3 and compare.

Run: ``python examples/vision_transformer.py [--samples 512] [--epochs 5]``
(``--image-size`` / ``--patch-size`` / ``--projection-dim`` / ``--heads`` /
``--layers`` / ``--head-units`` size the model).
"""

import argparse

import numpy as np

import kerasish


def make_layers(keras):
    """The script's two custom layers, subclassing ``keras.layers.Layer``
    (``keras`` is ``kerasish`` or Keras 3)."""
    layers, ops = keras.layers, keras.ops

    class Patches(layers.Layer):
        """(batch, H, W, C) images -> (batch, patches, patch_size * patch_size * C)."""

        def __init__(self, patch_size, **kwargs):
            super().__init__(**kwargs)
            self.patch_size = patch_size

        def call(self, images):
            input_shape = ops.shape(images)
            batch_size, height, width, channels = input_shape[0], input_shape[1], input_shape[2], input_shape[3]
            num_patches_h = height // self.patch_size
            num_patches_w = width // self.patch_size
            patches = ops.image.extract_patches(images, size=self.patch_size)
            return ops.reshape(patches, (batch_size, num_patches_h * num_patches_w,
                                         self.patch_size * self.patch_size * channels))

        def get_config(self):
            return {**super().get_config(), "patch_size": self.patch_size}

    class PatchEncoder(layers.Layer):
        """Projects each patch to ``projection_dim`` and adds its position's embedding."""

        def __init__(self, num_patches, projection_dim, **kwargs):
            super().__init__(**kwargs)
            self.num_patches = num_patches
            self.projection_dim = projection_dim
            self.projection = layers.Dense(units=projection_dim)
            self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

        def call(self, patch):
            positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
            return self.projection(patch) + self.position_embedding(positions)

        def get_config(self):
            return {**super().get_config(), "num_patches": self.num_patches, "projection_dim": self.projection_dim}

    return Patches, PatchEncoder


def mlp(keras, x, hidden_units, dropout_rate):
    """Dense(GELU) + Dropout per entry of ``hidden_units``."""
    for units in hidden_units:
        x = keras.layers.Dense(units, activation=keras.activations.gelu)(x)
        x = keras.layers.Dropout(dropout_rate)(x)
    return x


def make_model(keras, input_shape=(32, 32, 3), num_classes=10, image_size=32, patch_size=8, projection_dim=32,
               num_heads=4, transformer_layers=2, mlp_head_units=(64, 32), augment=True, x_train=None):
    """The script's ViT classifier built with ``keras`` (``kerasish`` or Keras 3).

    ``augment`` puts the script's augmentation in front (its Normalization is
    adapted on ``x_train`` when given); the random layers act only in training.
    Returns a functional ``Model``: (batch, *input_shape) -> (batch, num_classes) logits.
    """
    layers = keras.layers
    Patches, PatchEncoder = make_layers(keras)
    num_patches = (image_size // patch_size) ** 2
    transformer_units = [projection_dim * 2, projection_dim]  # Size of the transformer layers

    inputs = keras.Input(shape=input_shape)
    x = inputs
    if augment:
        data_augmentation = keras.Sequential(
            [
                layers.Normalization(),
                layers.Resizing(image_size, image_size),
                layers.RandomFlip("horizontal"),
                layers.RandomRotation(factor=0.02),
                layers.RandomZoom(height_factor=0.2, width_factor=0.2),
            ],
            name="data_augmentation",
        )
        if x_train is not None:
            # Compute the mean and the variance of the training data for normalization.
            data_augmentation.layers[0].adapt(x_train)
        x = data_augmentation(x)
    elif image_size != input_shape[0]:
        x = layers.Resizing(image_size, image_size)(x)
    # Create patches.
    patches = Patches(patch_size)(x)
    # Encode patches.
    encoded_patches = PatchEncoder(num_patches, projection_dim)(patches)

    # Create multiple layers of the Transformer block.
    for _ in range(transformer_layers):
        # Layer normalization 1.
        x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
        # Create a multi-head attention layer.
        attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim, dropout=0.1)(x1, x1)
        # Skip connection 1.
        x2 = layers.Add()([attention_output, encoded_patches])
        # Layer normalization 2.
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        # MLP.
        x3 = mlp(keras, x3, hidden_units=transformer_units, dropout_rate=0.1)
        # Skip connection 2.
        encoded_patches = layers.Add()([x3, x2])

    # Create a [batch_size, projection_dim] tensor.
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    representation = layers.Dropout(0.5)(representation)
    # Add MLP.
    features = mlp(keras, representation, hidden_units=list(mlp_head_units), dropout_rate=0.5)
    # Classify outputs.
    logits = layers.Dense(num_classes)(features)
    return keras.Model(inputs=inputs, outputs=logits)


def make_data(samples, num_classes=10, input_shape=(32, 32, 3), seed=0):
    """Generated images (float32 in [0, 1]) and int labels: each class a fixed
    random pattern, each sample its class's pattern plus noise."""
    rng = np.random.default_rng(seed)
    patterns = rng.random((num_classes, *input_shape)).astype("float32")
    labels = rng.integers(0, num_classes, samples)
    images = 0.6 * patterns[labels] + 0.4 * rng.random((samples, *input_shape)).astype("float32")
    return images.astype("float32"), labels.astype("int64")


def main(argv=None):
    """Runs the script; returns the ``History`` of ``fit``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=512, help="generated training images (a quarter more for test)")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=32, help="images are resized to this (the original: 72)")
    parser.add_argument("--patch-size", type=int, default=8, help="the original: 6")
    parser.add_argument("--projection-dim", type=int, default=32, help="the original: 64")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks (the original: 8)")
    parser.add_argument("--head-units", default="64,32", help="the MLP head's widths (the original: 2048,1024)")
    parser.add_argument("--no-augment", action="store_true", help="leave out the augmentation layers")
    args = parser.parse_args(argv)
    if args.image_size % args.patch_size:
        parser.error(f"--image-size {args.image_size} is not a multiple of --patch-size {args.patch_size}")
    keras = kerasish

    keras.utils.set_random_seed(0)
    input_shape = (32, 32, 3)
    x_train, y_train = make_data(args.samples, args.classes, input_shape, seed=0)
    x_test, y_test = make_data(max(args.samples // 4, 1), args.classes, input_shape, seed=1)
    print(f"x_train shape: {x_train.shape} - y_train shape: {y_train.shape}")
    print(f"x_test shape: {x_test.shape} - y_test shape: {y_test.shape}")
    print(f"Patches per image: {(args.image_size // args.patch_size) ** 2}, "
          f"elements per patch: {args.patch_size * args.patch_size * 3}")

    model = make_model(keras, input_shape=input_shape, num_classes=args.classes, image_size=args.image_size,
                       patch_size=args.patch_size, projection_dim=args.projection_dim, num_heads=args.heads,
                       transformer_layers=args.layers,
                       mlp_head_units=[int(u) for u in args.head_units.split(",") if u.strip()],
                       augment=not args.no_augment, x_train=x_train)
    model.summary()
    optimizer = keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.0001)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1)
    _, accuracy, top_5_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")
    print(f"Test top 5 accuracy: {round(top_5_accuracy * 100, 2)}%")
    return history


if __name__ == "__main__":
    main()
