"""Fine-tune on a folder of images, as Keras's transfer-learning guide does:
freeze a pretrained base, train a new head, unfreeze, recompile with a low
learning rate, train again.

    python examples/finetune_folder.py [DATA_DIR] [--weights imagenet|none|FILE]

DATA_DIR holds one sub-folder per class. Without one, a small folder of drawn
fruit is generated. ``--weights imagenet`` needs torchvision's ImageNet
weights (downloaded once into the torch cache); the default here, ``none``,
trains from scratch so that the example runs offline.
"""

import argparse
import os
import tempfile

import kerasish
from kerasish import applications
from kerasish.layers import Dense, Dropout, GlobalAveragePooling2D, RandomFlip, RandomRotation
from kerasish.utils import image_dataset_from_directory

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data_dir", nargs="?")
parser.add_argument("--weights", default="none")
parser.add_argument("--image-size", type=int, default=96)
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()

data_dir = args.data_dir
if data_dir is None:
    from kerasish.cli.fruit_images import write_folder

    data_dir = write_folder(os.path.join(tempfile.mkdtemp(), "fruits"), ["apple", "banana", "grape"], 40, size=args.image_size)

size = (args.image_size, args.image_size)
train, val = image_dataset_from_directory(data_dir, validation_split=0.2, subset="both", seed=1337, image_size=size, batch_size=16)

weights = None if args.weights == "none" else args.weights
base = applications.MobileNetV2(include_top=False, weights=weights, input_shape=size + (3,))
base.trainable = False                                   # 1. freeze the base

inputs = kerasish.Input(size + (3,))
x = RandomFlip("horizontal")(inputs)                     # augmentation, active only in training
x = RandomRotation(0.1)(x)
x = kerasish.layers.Rescaling(1 / 127.5, offset=-1)(x)   # MobileNetV2 expects [-1, 1]
x = base(x, training=False)                              # BatchNorm keeps its statistics
x = GlobalAveragePooling2D()(x)
x = Dropout(0.2)(x)
outputs = Dense(len(train.class_names), activation="softmax")(x)
model = kerasish.Model(inputs, outputs)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=args.epochs)  # 2. train the new head

base.trainable = True                                    # 3. unfreeze
model.compile(optimizer=kerasish.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train, validation_data=val, epochs=1)          # 4. fine-tune with a low learning rate

loss, acc = model.evaluate(val, verbose=0)
print(f"validation accuracy after fine-tuning: {acc:.3f}")
model.save(os.path.join(tempfile.mkdtemp(), "finetuned.keras"))
