"""What each ``kerasish`` sub-command does."""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from kerasish import applications
from kerasish.cli.fruit_images import write_folder
from kerasish.distribution import is_chief
from kerasish.layers import Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D, Input, Lambda, MaxPool2D, Rescaling
from kerasish.models import Model, load_model
from kerasish.optimizers import Adam
from kerasish.utils import image_dataset_from_directory, img_to_array, load_img, set_random_seed


def _console():
    # Under torchrun (data-parallel), rank 0 alone talks.
    return Console(quiet=not is_chief())


console = _console()

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")


def _scaled_seed_network(image_size: int, classes: int, name: str = "fruit_classifier"):
    """Seed post 001's network, scaled down for small images and a CPU: the same
    pattern (3x3 'same' convolutions in blocks, 2x2 max pooling, Flatten, a ReLU
    Dense and a softmax), fewer filters, and Rescaling(1/255) first."""
    x0 = Input((image_size, image_size, 3))
    x = Rescaling(1 / 255.0)(x0)
    for filters, repeat in ((16, 2), (32, 2), (64, 2)):
        for _ in range(repeat):
            x = Conv2D(filters, kernel_size=(3, 3), strides=(1, 1), padding="same", activation="relu")(x)
        x = MaxPool2D()(x)
    x = Flatten(name="flatten")(x)
    x = Dense(128, activation="relu")(x)
    preds = Dense(classes, activation="softmax")(x)
    return Model(inputs=x0, outputs=preds, name=name)


def per_class_report(model, dataset, class_names, title):
    """Predict over ``dataset`` and print accuracy per class; returns the overall accuracy."""
    correct = np.zeros(len(class_names), dtype=int)
    total = np.zeros(len(class_names), dtype=int)
    for images, labels in dataset:
        probs = model.predict_on_batch(images)
        pred = probs.argmax(-1)
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        if labels.ndim > 1:
            labels = labels.argmax(-1)
        for t, p in zip(labels, pred):
            total[t] += 1
            correct[t] += int(t == p)
    table = Table(title=title)
    table.add_column("class")
    table.add_column("images", justify="right")
    table.add_column("accuracy", justify="right")
    for name, c, t in zip(class_names, correct, total):
        table.add_row(name, str(t), f"{c / t:.1%}" if t else "-")
    overall = correct.sum() / max(total.sum(), 1)
    table.add_row("all", str(total.sum()), f"{overall:.1%}", style="bold")
    console.print(table)
    return overall


def demo(args):
    """The project's main job: the whole Keras workflow, offline, in a few minutes."""
    start = time.perf_counter()
    set_random_seed(args.seed)
    size = args.image_size
    first_dir = os.path.join(args.out, "fruits")
    second_dir = os.path.join(args.out, "more_fruits")
    model_path = os.path.join(args.out, "fruit_classifier.keras")

    console.rule("[bold]1. A folder of images")
    first_classes = ["apple", "banana", "lime", "orange"]
    write_folder(first_dir, first_classes, args.per_class, size=size, seed=args.seed)
    console.print(f"Wrote {args.per_class} drawn images of each of {first_classes} to {first_dir}/<class>/")
    train, val = image_dataset_from_directory(first_dir, validation_split=0.2, subset="both", seed=args.seed,
                                              image_size=(size, size), batch_size=32, label_mode="int")

    console.rule("[bold]2. The seed 001 network, scaled down")
    model = _scaled_seed_network(size, len(train.class_names))
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    console.rule("[bold]3. Training")
    model.fit(train, validation_data=val, epochs=args.epochs)
    model.save(model_path)
    console.print(f"Saved the trained model to {model_path}")
    per_class_report(model, val, train.class_names, "Validation accuracy per class")

    console.rule("[bold]4. Fine-tuning on a second folder")
    second_classes = ["apple", "grape", "orange", "plum"]
    write_folder(second_dir, second_classes, args.per_class, size=size, seed=args.seed + 1)
    train2, val2 = image_dataset_from_directory(second_dir, validation_split=0.2, subset="both", seed=args.seed,
                                                image_size=(size, size), batch_size=32, label_mode="int")
    loaded = load_model(model_path)
    # Keras's transfer-learning recipe: freeze the base, train a new head,
    # unfreeze, recompile with a low learning rate, train again.
    base = Model(loaded.inputs, loaded.get_layer("flatten").output, name="base")
    base.trainable = False
    inputs = Input((size, size, 3))
    x = base(inputs, training=False)
    x = Dense(64, activation="relu")(x)
    outputs = Dense(len(train2.class_names), activation="softmax")(x)
    tuned = Model(inputs, outputs, name="fine_tuned")
    tuned.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    console.print("New head on the frozen base:")
    tuned.fit(train2, validation_data=val2, epochs=5)
    base.trainable = True
    tuned.compile(optimizer=Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    console.print("Whole network, low learning rate:")
    tuned.fit(train2, validation_data=val2, epochs=2)
    tuned_path = os.path.join(args.out, "fine_tuned.keras")
    tuned.save(tuned_path)
    accuracy = per_class_report(tuned, val2, train2.class_names, "Fine-tuned validation accuracy per class")
    console.print(f"Saved {tuned_path}. Done in {time.perf_counter() - start:.0f} s; overall validation accuracy {accuracy:.1%}.")
    console.print(f"Try: kerasish predict {tuned_path} {second_dir}/grape --top-k 2   (class names: {', '.join(train2.class_names)})")
    return 0


def finetune(args):
    """Fine-tune a kerasish.applications backbone on DATA_DIR."""
    arch = getattr(applications, args.arch, None)
    if arch is None or not callable(arch):
        known = [n for n in dir(applications) if n[0].isupper()]
        raise ValueError(f"Unknown --arch {args.arch!r}; choose one of {known}")
    weights = None if str(args.weights).lower() == "none" else args.weights
    set_random_seed(args.seed)
    size = (args.image_size, args.image_size)
    train, val = image_dataset_from_directory(args.data_dir, validation_split=0.2, subset="both", seed=args.seed,
                                              image_size=size, batch_size=args.batch_size)
    family = getattr(applications, arch.__module__.rsplit(".", 1)[-1], None)
    preprocess = getattr(family, "preprocess_input", None) if family is not None else None
    base = arch(include_top=False, weights=weights, input_shape=size + (3,))
    base.trainable = False
    inputs = Input(size + (3,))
    x = inputs
    if preprocess is not None:
        x = Lambda(preprocess, name="preprocess")(x)
    x = base(x, training=False)
    x = GlobalAveragePooling2D()(x)
    x = Dropout(0.2)(x)
    outputs = Dense(len(train.class_names), activation="softmax")(x)
    model = Model(inputs, outputs, name=f"{args.arch.lower()}_finetuned")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    console.rule(f"[bold]New head on a frozen {args.arch}")
    model.fit(train, validation_data=val, epochs=args.epochs)
    if args.fine_tune_epochs > 0:
        base.trainable = True
        model.compile(optimizer=Adam(1e-5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        console.rule("[bold]Fine-tuning the whole network")
        model.fit(train, validation_data=val, epochs=args.fine_tune_epochs)
    model.save(args.out)
    per_class_report(model, val, train.class_names, "Validation accuracy per class")
    console.print(f"Saved {args.out}")
    return 0


def _image_files(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in sorted(os.walk(p)):
                out.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise FileNotFoundError(f"No such image or folder: '{p}'")
    if not out:
        raise ValueError(f"No images found in {list(paths)}")
    return out


def predict(args):
    """Top-k classes for each image, with the class names the model was trained on."""
    model = load_model(args.model)
    shape = model.inputs[0].shape
    if len(shape) != 4:
        raise ValueError(f"'{args.model}' does not take images (its input shape is {shape}).")
    height, width = shape[1], shape[2]
    names = getattr(model, "class_names", None)
    files = _image_files(args.images)
    batch = np.stack([img_to_array(load_img(f, target_size=(height, width), interpolation="bilinear")) for f in files])
    probs = model.predict(batch, verbose=0)
    k = max(1, min(args.top_k, probs.shape[-1]))
    for f, p in zip(files, probs):
        top = np.argsort(p)[::-1][:k]
        labels = ", ".join(f"{names[i] if names and i < len(names) else i}: {p[i]:.3f}" for i in top)
        print(f"{f}: {labels}")
    return 0


def summary(args):
    model = load_model(args.model)
    model.summary()
    names = getattr(model, "class_names", None)
    if names:
        print(f"Classes: {', '.join(names)}")
    return 0
