"""classifier/labels.py: class names and which classes are birds."""

import json

import pytest

from classifier.labels import LabelFileError, imagenet_labels, load_labels


def test_it_names_the_1000_imagenet_classes_uniquely():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert len(set(labels.names)) == 1000


def test_it_uses_the_short_imagenet_names():
    names = imagenet_labels().names
    assert (names[0], names[281], names[504], names[967]) == (
        "tench",
        "tabby",
        "coffee mug",
        "espresso",
    )
    assert (names[134], names[517]) == ("crane (bird)", "crane (machine)")


def test_it_knows_imagenets_59_bird_classes():
    labels = imagenet_labels()
    birds = {labels.names[index] for index in labels.bird_classes}
    assert len(labels.bird_classes) == 59
    assert {"cock", "great grey owl", "black grouse", "black swan", "albatross"} <= birds
    assert not {"tench", "axolotl", "tabby", "birdhouse", "feather boa"} & birds


def test_it_defaults_to_imagenet():
    assert load_labels("") == load_labels(None) == imagenet_labels()


def write(tmp_path, content) -> str:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(content))
    return str(path)


def test_it_reads_a_label_file(tmp_path):
    labels = load_labels(
        write(tmp_path, {"labels": ["sparrow", "cat", "wren"], "bird_classes": [2, 0]})
    )
    assert labels.names == ("sparrow", "cat", "wren")
    assert labels.bird_classes == (0, 2)


def test_it_counts_every_class_as_a_bird_when_the_file_does_not_say(tmp_path):
    labels = load_labels(write(tmp_path, {"labels": ["sparrow", "wren"]}))
    assert labels.bird_classes == (0, 1)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (["sparrow"], '"labels" is a list'),
        ({"labels": []}, '"labels" is a list'),
        ({"labels": ["sparrow", ""]}, '"labels" is a list'),
        ({"labels": ["sparrow"], "bird_classes": [1]}, "indices into"),
        ({"labels": ["sparrow"], "bird_classes": [True]}, "indices into"),
    ],
)
def test_it_explains_what_is_wrong_with_a_label_file(tmp_path, content, problem):
    with pytest.raises(LabelFileError, match=problem):
        load_labels(write(tmp_path, content))


def test_it_names_a_missing_label_file(tmp_path):
    with pytest.raises(LabelFileError, match=r"nowhere\.json"):
        load_labels(tmp_path / "nowhere.json")
