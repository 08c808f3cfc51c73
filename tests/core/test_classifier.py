import numpy as np
import pytest

from keras_classics.backends import configured_backend
from keras_classics.core import classifier, models, nodes


def test_best_epoch_counts_from_one_and_auto_uses_it():
    curve = {"history": {"val_accuracy": [0.5, 0.8, 0.7]}, "seconds": 1.0}
    best = nodes.best_epoch(curve)
    assert best == {"best_epoch": 2, "best_val_accuracy": 0.8}
    assert nodes.choose_final_epochs("auto", best) == 2
    assert nodes.choose_final_epochs(9, best) == 9


def test_classes_from_sigmoid_softmax_and_label_encodings():
    np.testing.assert_array_equal(
        classifier.predicted_classes(np.array([[0.2], [0.7]])), [0, 1]
    )
    np.testing.assert_array_equal(
        classifier.predicted_classes(np.array([[0.1, 0.9, 0.0], [0.6, 0.3, 0.1]])),
        [1, 0],
    )
    np.testing.assert_array_equal(classifier.true_classes(np.eye(3)[[2, 0]]), [2, 0])
    np.testing.assert_array_equal(classifier.true_classes(np.array([1.0, 0.0])), [1, 0])


def test_class_report_counts_precision_recall_and_support():
    truth = np.array([0, 0, 1, 1, 2])
    outputs = np.eye(3)[[0, 1, 1, 1, 0]]
    report = classifier.class_report(truth, outputs, ["a", "b", "c"]).set_index("class")
    assert report.loc["a", "precision"] == 0.5 and report.loc["a", "recall"] == 0.5
    assert (
        report.loc["b", "precision"] == pytest.approx(2 / 3)
        and report.loc["b", "recall"] == 1
    )
    assert report.loc["c", "f1"] == 0 and report.loc["c", "support"] == 1


def test_final_training_data_is_all_or_the_non_held_out_part():
    spec = {
        "layers": [{"type": "Dense", "units": 1, "activation": "sigmoid"}],
        "compile": {
            "optimizer": "rmsprop",
            "loss": "binary_crossentropy",
            "metrics": ["accuracy"],
        },
    }
    x = np.random.default_rng(0).normal(size=(30, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    architecture = nodes.build_architecture(spec, x)
    with pytest.raises(ValueError, match="final.data is 'everything'"):
        nodes.train_final_model(
            architecture, x, y, 1, 8, 0, "everything", 10, after_models=1
        )
    everything = nodes.train_final_model(architecture, x, y, 2, 1, 0, after_models=1)
    rest = nodes.train_final_model(
        architecture, x, y, 2, 1, 0, "non_held_out", 10, after_models=1
    )
    # Batches of one: the optimizer counts the rows each final model saw.
    assert int(everything[0].optimizer.iterations) == 2 * 30
    assert int(rest[0].optimizer.iterations) == 2 * 20
    assert len(rest[1]["history"]["final_loss"]) == 2


@pytest.mark.skipif(
    configured_backend() != "tensorflow",
    reason="raw-text IMDB is TensorFlow's (README: Backends)",
)
def test_text_vectorization_vocabulary_is_learnt_into_the_spec():
    spec = {
        "layers": [
            {"type": "TextVectorization", "max_tokens": 20, "output_mode": "multi_hot"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"},
        ],
        "compile": {"optimizer": "rmsprop", "loss": "binary_crossentropy"},
    }
    texts = np.array(["the cat sat", "the dog ran"], dtype=object)
    learnt = models.with_vocabularies(spec, texts)
    assert learnt["layers"][0]["vocabulary"][:2] == ["[UNK]", "the"]
    assert "vocabulary" not in spec["layers"][0]
    model = models.from_config(nodes.build_architecture(spec, texts))
    assert model.layers[0].get_vocabulary() == learnt["layers"][0]["vocabulary"]
