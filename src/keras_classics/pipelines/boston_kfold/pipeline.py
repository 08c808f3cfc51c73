"""Wiring of the Boston Housing k-fold pipeline.

``k`` decides the graph: a training node per fold (``boston_kfold.fold_<i>.train_fold``),
so that parallel or distributed runners train folds at once; it comes from conf/
(``pipeline_registry``).
"""

from kedro.pipeline import Pipeline, node

from keras_classics.core import stages
from keras_classics.core.prediction import collect_rows
from keras_classics.core.preparation import feature_preparation
from keras_classics.core.stages import INGEST, PREPARE, REPORT

from . import nodes

GRAPH_PARAMETERS = ("k",)


def create_pipeline(k: int = 4, **kwargs) -> Pipeline:
    """The pipeline with ``k`` fold-training nodes."""
    return Pipeline(
        [
            node(
                nodes.split_dataset,
                inputs=["boston_housing_raw", "params:split", "params:columns"],
                outputs=["train", "test"],
                name="split_dataset",
                tags=INGEST,
            ),
            node(
                nodes.fit_standardiser,
                inputs=["train", "params:columns"],
                outputs="feature_stats",
                name="fit_standardiser",
                tags=PREPARE,
            ),
            node(
                nodes.standardise,
                inputs=["train", "test", "feature_stats", "params:columns"],
                outputs=["x_train", "y_train", "x_test", "y_test"],
                name="standardise",
                tags=PREPARE,
            ),
            stages.build(),
            stages.kfold_training(k, score="val_mae"),
            stages.final_fit("params:final_batch_size", after_models=k),
            stages.evaluate(loss="mse"),
            stages.collect_metrics("kfold_result", "final_result", "test_metrics"),
            node(
                nodes.plot_validation_mae,
                inputs=["smoothed_curve", "params:k"],
                outputs="validation_mae_plot",
                name="plot_validation_mae",
                tags=REPORT,
            ),
            node(
                feature_preparation,
                inputs="feature_stats",
                outputs="preparation",
                name="describe_preparation",
                tags=REPORT,
            ),
            stages.package_model("test", nodes.package_model),
        ],
        namespace="boston_kfold",
        inputs={"boston_housing_raw"},
    )


def create_predict_pipeline(**kwargs) -> Pipeline:
    """``boston_kfold_predict``: prices for the rows of a person's CSV files."""
    features = "params:boston_kfold.columns.features"
    return Pipeline(
        stages.predict(collect_rows, ["inputs", features]),
        namespace="boston_kfold_predict",
        parameters={features},
    )
