"""MixUp and CutMix on an image folder, as keras.io's "MixUp augmentation for
image classification" (Sayak Paul) and "CutMix data augmentation for image
classification" (Sayan Nath) train, with Keras 3's ``MixUp`` / ``CutMix`` layers.

The keras.io examples write their own ``mix_up(ds_one, ds_two)`` /
``cutmix(train_ds_one, train_ds_two)`` functions over two zipped, shuffled
copies of the training set (Fashion-MNIST, CIFAR-10), visualise a few mixed
samples, then train the same small CNN from the same initial weights with
and without the augmentation and compare test accuracies. Here the data is a
folder of generated images (drawn fruit, ``kerasish.cli.fruit_images``) read
with ``keras.utils.image_dataset_from_directory(label_mode="categorical")``,
and the mixing is Keras 3's layers applied to whole (images, one-hot labels)
batches in ``train_ds.map(...)`` (they pair each image with another of the
same batch rather than of a second dataset); kerasish runs the map in the
folder's decoding worker processes. The CNN is the MixUp example's
(``get_training_model``), on RGB inputs.

Run: ``python examples/mixup_cutmix_folder.py [--epochs 6]``
(``--images-per-class`` / ``--image-size`` / ``--batch-size`` shrink it).
Files (``fruits/``, ``initial.weights.h5``, ``mixup_samples.png``,
``cutmix_samples.png``) go to the current folder.
"""

import argparse

import matplotlib

matplotlib.use("Agg")  # files, not windows: the script runs headless
import matplotlib.pyplot as plt
import numpy as np

import kerasish as keras
from kerasish import layers
from kerasish.cli.fruit_images import write_folder

CLASSES = ["apple", "banana", "grape", "lime"]


def get_training_model(input_shape, num_classes):
    model = keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(16, (5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, (5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(0.2),
            layers.GlobalAveragePooling2D(),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    return model


def show_samples(ds, path):
    """The first batch's first 9 mixed images, titled with their soft labels."""
    images, labels = next(iter(ds.take(1)))
    plt.figure(figsize=(10, 10))
    for i in range(min(9, len(images))):
        plt.subplot(3, 3, i + 1)
        plt.imshow(np.asarray(images[i].numpy()).astype("uint8"))
        plt.title(" ".join(f"{v:.2f}" for v in labels[i].numpy()), fontsize=8)
        plt.axis("off")
    plt.savefig(path)
    plt.close()
    return labels.numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--images-per-class", type=int, default=150)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(42)
    folder = write_folder("fruits", CLASSES, args.images_per_class, size=args.image_size)
    image_size = (args.image_size, args.image_size)

    """
    ## Prepare the dataset: one-hot labels, as MixUp and CutMix mix them
    """

    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        folder,
        validation_split=0.2,
        subset="both",
        seed=1337,
        image_size=image_size,
        batch_size=args.batch_size,
        label_mode="categorical",
    )
    num_classes = len(train_ds.class_names)

    """
    ## The augmentations: Keras 3's layers, applied to (images, labels) batches
    """

    mix_up = keras.layers.MixUp(alpha=0.2, seed=42)
    cut_mix = keras.layers.CutMix(factor=1.0, seed=42)

    def apply_mix_up(images, labels):
        mixed = mix_up({"images": images, "labels": labels})
        return mixed["images"], mixed["labels"]

    def apply_cut_mix(images, labels):
        mixed = cut_mix({"images": images, "labels": labels})
        return mixed["images"], mixed["labels"]

    train_ds_mu = train_ds.map(apply_mix_up, num_parallel_calls=keras.utils.AUTOTUNE).prefetch(keras.utils.AUTOTUNE)
    train_ds_cmu = train_ds.map(apply_cut_mix, num_parallel_calls=keras.utils.AUTOTUNE).prefetch(keras.utils.AUTOTUNE)

    """
    ## Visualize the new augmented dataset
    """

    for name, ds in (("mixup", train_ds_mu), ("cutmix", train_ds_cmu)):
        labels = show_samples(ds, f"{name}_samples.png")
        soft = np.mean(np.max(labels, axis=1) < 0.999)
        print(f"{name}: label rows sum to {labels.sum(axis=1).min():.4f}..{labels.sum(axis=1).max():.4f}, "
              f"{soft:.0%} of the first batch's labels mixed")

    """
    ## Train the same model from the same initial weights, with each augmentation and without
    """

    initial_model = get_training_model(image_size + (3,), num_classes)
    initial_model.save_weights("initial.weights.h5")

    results = {}
    for name, ds in (("MixUp", train_ds_mu), ("CutMix", train_ds_cmu), ("no augmentation", train_ds)):
        model = get_training_model(image_size + (3,), num_classes)
        model.load_weights("initial.weights.h5")
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        print(f"Training with {name}")
        model.fit(ds, validation_data=val_ds, epochs=args.epochs)
        _, results[name] = model.evaluate(val_ds)

    for name, acc in results.items():
        print(f"Validation accuracy ({name}): {acc * 100:.2f}%")


if __name__ == "__main__":
    main()
