"""Zhou's loop CNN against the vectorised NumPy one (``keras_classics.scratch``).

Victor Zhou's "CNNs, Part 1/2" trains Conv3x3(8) -> MaxPool2 -> Softmax(10) on the
first 1,000 MNIST training images for 3 epochs of per-image SGD (learning rate 0.005),
then tests on the first 1,000 test images. Both implementations run that here from
the same initial weights and the same shuffles: Zhou's loops (region by region, one
image at a time), the vectorised layers with batch size 1 (the same computation,
step for step), and with batch size 32 at the same learning rate and at 0.08. The
batch gradient is a mean, so at the same rate a batch of 32 makes 32 times fewer
steps of the same size; 0.08 (16 times 0.005, chosen on the training loss) makes up
for it, while 32 times 0.005 (the linear scaling rule) diverges here.

Prints a Markdown table: median seconds per epoch, milliseconds per training image,
seconds for the test images, test accuracy, and the per-epoch speed-up over Zhou's
loops. Progress goes to stderr.

    python benchmarks/scratch_cnn.py [--mirror ../shared/datasets] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from keras_classics.datasets.npz import load_npz
from keras_classics.scratch.network import ScratchCNN
from keras_classics.scratch.reference import ReferenceCNN

REPO = Path(__file__).resolve().parents[1]


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path(
            os.environ.get("KERAS_CLASSICS_MIRROR", REPO.parent / "shared" / "datasets")
        ),
        help="folder holding mnist.npz (default: $KERAS_CLASSICS_MIRROR or "
        "../shared/datasets)",
    )
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learn-rate", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--batch-learn-rates",
        type=float,
        nargs="+",
        default=[0.005, 0.08],
        help="learning rates of the --batch-size runs",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs of each vectorised setting (Zhou's loops run once)",
    )
    return parser.parse_args()


def run(net, fit, test, label: str) -> dict:
    """Train with ``fit(on_epoch_end)``, then ``test()``: times, accuracy, loss."""
    epoch_seconds: list[float] = []
    started = [time.perf_counter()]

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        epoch_seconds.append(now - started[0])
        print(
            f"  {label} epoch {epoch + 1}: {epoch_seconds[-1]:.3f} s, "
            f"loss {logs['loss']:.3f}, accuracy {logs['accuracy']:.3f}",
            file=sys.stderr,
        )
        started[0] = now

    began = time.perf_counter()
    history = fit(on_epoch_end)
    tested = time.perf_counter()
    test_loss, test_accuracy = test()
    ended = time.perf_counter()
    return {
        "epoch_seconds": epoch_seconds,
        "test_seconds": ended - tested,
        "total_seconds": ended - began,
        "train_loss": history["loss"][-1],
        "test_loss": test_loss,
        "test_accuracy": test_accuracy,
        "weights": net.get_weights(),
    }


def main() -> None:
    args = parse_arguments()
    data = load_npz(args.mirror / "mnist.npz")
    x_train, y_train = data["x_train"][: args.train], data["y_train"][: args.train]
    x_test, y_test = data["x_test"][: args.test], data["y_test"][: args.test]
    common = {"epochs": args.epochs, "seed": args.seed}

    print(f"Zhou's loops, {args.train} images x {args.epochs} epochs", file=sys.stderr)
    zhou = ReferenceCNN(seed=args.seed)
    results = {
        ("Zhou's loops", 1, args.learn_rate): [
            run(
                zhou,
                lambda cb: zhou.fit(
                    x_train,
                    y_train,
                    learn_rate=args.learn_rate,
                    on_epoch_end=cb,
                    **common,
                ),
                lambda: zhou.loss_and_accuracy(x_test, y_test),
                "run 1",
            )
        ]
    }
    settings = [(1, args.learn_rate)]
    settings += [(args.batch_size, rate) for rate in args.batch_learn_rates]
    for batch_size, learn_rate in settings:
        print(f"vectorised, batch {batch_size}, lr {learn_rate:g}", file=sys.stderr)
        runs = []
        for repeat in range(args.repeats):
            net = ScratchCNN(seed=args.seed)
            runs.append(
                run(
                    net,
                    lambda cb, net=net, b=batch_size, lr=learn_rate: net.fit(
                        x_train,
                        y_train,
                        batch_size=b,
                        learn_rate=lr,
                        on_epoch_end=cb,
                        **common,
                    ),
                    lambda net=net: net.loss_and_accuracy(x_test, y_test),
                    f"run {repeat + 1}",
                )
            )
        results[("vectorised", batch_size, learn_rate)] = runs

    print_table(results, args)
    zhou_weights = results["Zhou's loops", 1, args.learn_rate][0]["weights"]
    ours = results["vectorised", 1, args.learn_rate][0]["weights"]
    largest = max(np.abs(ours[name] - zhou_weights[name]).max() for name in ours)
    print(
        f"\nLargest weight difference between Zhou's loops and the vectorised batch-1 "
        f"run after {args.epochs * args.train} steps: {largest:.1e}."
    )


def print_table(results: dict, args: argparse.Namespace) -> None:
    baseline = statistics.median(
        results["Zhou's loops", 1, args.learn_rate][0]["epoch_seconds"]
    )
    print(
        f"\n{args.train} MNIST training images x {args.epochs} epochs, "
        f"{args.test} test images; NumPy {np.__version__}, {os.cpu_count()} cores. "
        f"Seconds per epoch: median over epochs (Zhou's loops: 1 run; vectorised: "
        f"{args.repeats} runs).\n"
    )
    header = [
        "implementation",
        "batch",
        "lr",
        "s / epoch",
        "ms / image",
        "test s",
        "total s",
        "train loss",
        "test accuracy",
        "speed-up / epoch",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for (name, batch_size, learn_rate), runs in results.items():
        epoch = statistics.median(s for r in runs for s in r["epoch_seconds"])
        first = runs[0]
        cells = [
            name,
            str(batch_size),
            f"{learn_rate:g}",
            f"{epoch:.3f}",
            f"{epoch / args.train * 1000:.3f}",
            f"{statistics.median(r['test_seconds'] for r in runs):.3f}",
            f"{statistics.median(r['total_seconds'] for r in runs):.2f}",
            f"{first['train_loss']:.3f}",
            f"{first['test_accuracy']:.3f}",
            f"{baseline / epoch:.0f}x",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
