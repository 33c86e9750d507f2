"""The real-data path of `aquaculture train`: real photographs (scikit-image's sample photos,
JPEG and PNG, as stand-in classes) through the loader, a 1-epoch training loop, calibration,
ONNX export and the model card; and the split by source."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import skimage.data
from aquaculture.classifier.dataset import ImageSet, load_image_folder, source_of, split_by_source
from aquaculture.classifier.metrics import ece, unsure_threshold
from aquaculture.classifier.preprocess import to_input
from PIL import Image

PHOTOS = Path(skimage.data.__file__).parent
#: Stand-in classes: real photographs shipped with scikit-image (a cat, coffee, a rocket, a
#: person), each photo plus crops of it, in their own formats.
STAND_INS = {
    "cat": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "astronaut": "astronaut.png",
}


def real_photo_tree(root: Path, crops: int = 5) -> Path:
    rng = np.random.default_rng(0)
    for label, name in STAND_INS.items():
        folder = root / label
        folder.mkdir(parents=True)
        src = PHOTOS / name
        shutil.copy(src, folder / name)  # the original file, byte for byte
        with Image.open(src) as img:
            w, h = img.size
            for k in range(crops):
                side = int(min(w, h) * rng.uniform(0.5, 0.9))
                x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
                crop = img.crop((x, y, x + side, y + side))
                crop.save(
                    folder / f"crop{k}{src.suffix}", quality=90
                ) if src.suffix == ".jpg" else crop.save(folder / f"crop{k}{src.suffix}")
    return root


def test_loader_reads_real_jpeg_and_png_files(tmp_path: Path) -> None:
    tree = real_photo_tree(tmp_path / "photos")
    (tmp_path / "photos" / "cat" / "notes.txt").write_text("not an image")
    data = load_image_folder(tree, 32)
    assert data.classes == sorted(STAND_INS)
    assert data.images.shape == (24, 32, 32, 3) and data.images.dtype == np.uint8
    assert np.bincount(data.labels).tolist() == [6, 6, 6, 6]
    assert {Image.open(p).format for p in tree.rglob("*.*") if p.suffix != ".txt"} == {
        "JPEG",
        "PNG",
    }


def test_one_epoch_on_real_photos_trains_calibrates_exports_and_writes_the_card(
    tmp_path: Path,
) -> None:
    from aquaculture.classifier.train import TrainConfig, train_and_export

    tree = real_photo_tree(tmp_path / "photos")
    out = tmp_path / "model"
    card = train_and_export(
        TrainConfig(data=tree, out=out, epochs=1, size=32, batch_size=8, patience=1, progress=False)
    )
    assert card["classes"] == sorted(STAND_INS) and card["data"]["synthetic"] is False
    assert card["data"]["train"] + card["data"]["validation"] + card["data"]["test"] == 24
    assert set(card["metrics"]["per_class"]) == set(STAND_INS)
    assert 0.0 <= card["metrics"]["ece"] <= 1.0 and card["calibration"]["temperature"] > 0
    assert 0.5 <= card["calibration"]["unsure_threshold"] <= 0.99
    assert json.loads((out / "card.json").read_text())["sha256"] == card["sha256"]
    markdown = (out / "card.md").read_text()
    assert "ImageFolder" in markdown and "| cat | " in markdown and "{rows}" not in markdown
    assert isinstance(card["calibration"]["min_max_logit"], float)
    assert Image.open(out / "confusion.png").format == "PNG"
    # The exported model runs in ONNX Runtime on any batch size and gives probabilities.
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    batch = to_input(load_image_folder(tree, 32).images[:5])
    probs, logits = session.run(["probabilities", "logits"], {"image": batch})
    assert probs.shape == (5, 4) and logits.shape == (5, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_split_by_source_keeps_every_source_in_one_split() -> None:
    sources = [f"cam{i % 10}" for i in range(200)]
    data = ImageSet(
        np.zeros((200, 2, 2, 3), np.uint8), np.arange(200) % 4, sources, ["a", "b", "c", "d"]
    )
    parts = split_by_source(data, seed=3)
    assert sum(len(p) for p in parts) == 200 and all(len(p) for p in parts)
    owners = [{sources[i] for i in p} for p in parts]
    assert not (owners[0] & owners[1] or owners[0] & owners[2] or owners[1] & owners[2])
    assert source_of(Path("x/src-cam3__0001.png")) == "cam3"
    assert source_of(Path("fish/IMG_1.jpg")) == "fish/IMG_1.jpg"


def test_ece_and_threshold() -> None:
    labels = np.array([0, 1, 0, 1])
    perfect = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert ece(perfect, labels) == pytest.approx(0.0)
    overconfident = np.array([[0.99, 0.01], [0.99, 0.01], [0.99, 0.01], [0.01, 0.99]])
    # Always 99 % sure, right 3 times out of 4: off by 0.24.
    assert ece(overconfident, labels) == pytest.approx(0.24)
    assert ece(np.zeros((0, 2)), np.zeros(0, dtype=int)) == 0.0
    probs = np.vstack([np.tile([0.95, 0.05], (50, 1)), np.tile([0.55, 0.45], (50, 1))])
    truth = np.array([0] * 50 + [0, 1] * 25)
    assert unsure_threshold(probs, truth) == pytest.approx(0.56, abs=0.01)
