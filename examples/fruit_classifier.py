"""The 18-layer fruit classifier from seed post 001 ("Convolutional Neural
Networks - Introduction"), written exactly as the post writes it in Keras,
running on native PyTorch modules through kerasish.

The post's ``model.summary()`` table lists 10,865,724 parameters; this script
prints the same table (in Keras 3's format), then classifies four random
"images" with the untrained network.

Run: ``python examples/fruit_classifier.py``
"""

import numpy as np

from kerasish.layers import Conv2D, Dense, Flatten, Input, MaxPool2D
from kerasish.models import Model

INPUT_SHAPE = [100, 100, 3]
N_CLASSES = 60

x0 = Input(INPUT_SHAPE)
x = Conv2D(32, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x0)
x = Conv2D(32, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(32, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = MaxPool2D()(x)
x = Conv2D(64, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(64, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(64, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = MaxPool2D()(x)
x = Conv2D(128, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(128, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(128, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = MaxPool2D()(x)
x = Conv2D(256, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = Conv2D(256, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)
x = MaxPool2D()(x)
x = Flatten()(x)
x = Dense(1024, activation='relu')(x)
preds = Dense(N_CLASSES, activation='softmax')(x)
model = Model(inputs=x0, outputs=preds)
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])

model.summary()

# The untrained network on four random 100x100 RGB images (channels_last, as in Keras).
images = np.random.default_rng(0).random((4, 100, 100, 3)).astype("float32")
probs = model(images).detach().numpy()
print(f"\nPredictions on {len(images)} random images (untrained, so close to uniform 1/{N_CLASSES} = {1 / N_CLASSES:.4f}):")
for i, p in enumerate(probs):
    top = int(p.argmax())
    print(f"  image {i}: class {top:2d}  p={p[top]:.4f}  (probabilities sum to {p.sum():.4f})")
