"""keras.io "Image classification from scratch" (fchollet, Keras 3 version), in kerasish.

The script of keras.io: Kaggle's Cats vs Dogs JPEGs (``PetImages/Cat``,
``PetImages/Dog``), badly encoded files deleted by a "JFIF" header check,
``keras.utils.image_dataset_from_directory(subset="both")``, a RandomFlip +
RandomRotation augmentation applied in ``train_ds.map(...)``, a small
Xception-like network (separable convolutions, residual projections) giving
one logit, ``ModelCheckpoint("save_at_{epoch}.keras")``, then
``keras.utils.load_img("PetImages/Cat/6779.jpg")`` and a prediction.

No download here: a PetImages-like folder is written instead, ``Cat`` and
``Dog`` JPEGs of the same kind of mess (noise, blurred blobs, random sizes)
that differ learnably: cats are warm (red / orange blobs), dogs cool (blue /
green). Two broken files are planted as in the real archive: a PNG saved
under a ``.jpg`` name (no JFIF header: the original's filter deletes it,
kept here as written) and a truncated JPEG that passes the filter; kerasish
skips the latter with a warning naming it (TensorFlow would stop with an
error; the real archive's such files only print "Corrupt JPEG data").
Everything else is the original's code, with ``import kerasish as keras``,
``tf_data.AUTOTUNE`` -> ``keras.utils.AUTOTUNE`` (no TensorFlow), and the
figures saved to files instead of shown. The original: 180x180 images,
batches of 128, 25 epochs on ~23,000 images; the defaults here are the
original's sizes on 300 images per class and 3 epochs.

Run: ``python examples/image_classification_from_scratch.py [--epochs 3]``
(``--images-per-class`` / ``--image-size`` / ``--batch-size`` shrink it).
Files (``PetImages/``, ``save_at_{epoch}.keras``, ``model.png``, the
figures) go to the current folder, as in the original.
"""

import argparse
import io
import os

import matplotlib

matplotlib.use("Agg")  # files, not windows: the script runs headless
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageFilter

import kerasish as keras
from kerasish import layers


def write_pet_images(root, per_class, rng, max_side=260):
    """A PetImages-like folder: ``Cat/*.jpg`` (warm blobs) and ``Dog/*.jpg``
    (cool blobs) of random sizes, plus a non-JFIF file and a truncated JPEG.

    Cat files are numbered from 6770, so ``Cat/6779.jpg`` (the original's
    inference image) exists; dog files from 0."""
    for label, (folder, first) in enumerate((("Cat", 6770), ("Dog", 0))):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        for i in range(per_class):
            h, w = rng.integers(max_side // 2, max_side + 1, size=2)
            img = rng.normal(120, 40, size=(h, w, 3))
            yy, xx = np.mgrid[0:h, 0:w]
            for _ in range(rng.integers(2, 5)):  # a few soft blobs carry the class colour
                cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.15, 0.35) * min(h, w)
                blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
                warm = np.array([230.0, rng.uniform(80, 160), 40.0])
                cool = np.array([40.0, rng.uniform(80, 160), 230.0])
                img = img * (1 - blob) + (cool if label else warm) * blob
            pil = Image.fromarray(np.clip(img, 0, 255).astype("uint8")).filter(ImageFilter.GaussianBlur(1))
            pil.save(os.path.join(root, folder, f"{first + i}.jpg"), quality=90)
    # The archive's broken files: a PNG named .jpg (deleted by the JFIF check) ...
    Image.new("RGB", (40, 30), (128, 0, 0)).save(os.path.join(root, "Cat", "666.jpg"), format="PNG")
    # ... and a JPEG cut in half, which has its JFIF header and fails to decode.
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, size=(64, 64, 3), dtype="uint8")).save(buf, format="JPEG")
    with open(os.path.join(root, "Dog", "11702.jpg"), "wb") as f:
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])


"""
## Using image data augmentation
"""

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


"""
## Build a model
"""


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [256, 512, 728]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(
            previous_block_activation
        )
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(1024, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="the original: 25")
    parser.add_argument("--images-per-class", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=180, help="the original: 180")
    parser.add_argument("--batch-size", type=int, default=128, help="the original: 128")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(1337)  # the original is unseeded; seeded here so runs repeat
    write_pet_images("PetImages", args.images_per_class, np.random.default_rng(0))

    """
    ### Filter out corrupted images
    """

    num_skipped = 0
    for folder_name in ("Cat", "Dog"):
        folder_path = os.path.join("PetImages", folder_name)
        for fname in os.listdir(folder_path):
            fpath = os.path.join(folder_path, fname)
            try:
                fobj = open(fpath, "rb")
                is_jfif = b"JFIF" in fobj.peek(10)
            finally:
                fobj.close()

            if not is_jfif:
                num_skipped += 1
                # Delete corrupted image
                os.remove(fpath)

    print(f"Deleted {num_skipped} images.")

    """
    ## Generate a `Dataset`
    """

    image_size = (args.image_size, args.image_size)
    batch_size = args.batch_size

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        "PetImages",
        validation_split=0.2,
        subset="both",
        seed=1337,
        image_size=image_size,
        batch_size=batch_size,
    )

    """
    ## Visualize the data
    """

    plt.figure(figsize=(10, 10))
    for images, labels in train_ds.take(1):
        for i in range(min(9, len(images))):
            plt.subplot(3, 3, i + 1)
            plt.imshow(np.array(images[i]).astype("uint8"))
            plt.title(int(labels[i]))
            plt.axis("off")
    plt.savefig("samples.png")
    plt.close()

    plt.figure(figsize=(10, 10))
    for images, _ in train_ds.take(1):
        for i in range(9):
            augmented_images = data_augmentation(images)
            plt.subplot(3, 3, i + 1)
            plt.imshow(np.array(augmented_images[0]).astype("uint8"))
            plt.axis("off")
    plt.savefig("augmented.png")
    plt.close()

    """
    ## Configure the dataset for performance
    """

    # Apply `data_augmentation` to the training images.
    train_ds = train_ds.map(
        lambda img, label: (data_augmentation(img), label),
        num_parallel_calls=keras.utils.AUTOTUNE,
    )
    # Prefetching samples in GPU memory helps maximize GPU utilization.
    train_ds = train_ds.prefetch(keras.utils.AUTOTUNE)
    val_ds = val_ds.prefetch(keras.utils.AUTOTUNE)

    model = make_model(input_shape=image_size + (3,), num_classes=2)
    keras.utils.plot_model(model, show_shapes=True)

    """
    ## Train the model
    """

    epochs = args.epochs

    callbacks = [
        keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
    ]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    model.fit(
        train_ds,
        epochs=epochs,
        callbacks=callbacks,
        validation_data=val_ds,
    )

    """
    ## Run inference on new data
    """

    img = keras.utils.load_img("PetImages/Cat/6779.jpg", target_size=image_size)
    plt.imshow(img)
    plt.savefig("inference.png")
    plt.close()

    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

    predictions = model.predict(img_array)
    score = float(keras.ops.sigmoid(predictions[0][0]))
    print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")


if __name__ == "__main__":
    main()
