"""The exercise checkers of tutorials/04_data.py reject realistic mistakes and accept a
correct answer (the reference solutions are asserted by the tutorial itself)."""

from __future__ import annotations

import numpy as np
import torch
from support import load_checkers, load_solution, run_quietly
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

CHECKS = load_checkers("04_data")


class _IgnoresTransform(Dataset):
    def __init__(self, path, transform=None):
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        self.features = torch.from_numpy(table[:, 1:]).float()
        self.labels = table[:, 0].astype(int).tolist()
        self.transform = transform  # stored, but __getitem__ never applies it

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.features[idx], self.labels[idx]


class _Float64Features(_IgnoresTransform):
    def __getitem__(self, idx):
        x = self.features[idx].double()  # what torch.from_numpy(np.loadtxt(...)) gives
        return (self.transform(x) if self.transform else x), self.labels[idx]


class _CSVDataset(_IgnoresTransform):
    def __getitem__(self, idx):
        x = self.features[idx]
        return (self.transform(x) if self.transform else x), self.labels[idx]


def test_csv_checker_rejects_a_dataset_that_ignores_its_transform():
    verdict, printed = run_quietly(CHECKS["check_csv_dataset"], _IgnoresTransform)
    assert verdict is False and printed.startswith("not correct: with transform=")


def test_csv_checker_rejects_float64_features():
    verdict, printed = run_quietly(CHECKS["check_csv_dataset"], _Float64Features)
    assert verdict is False and printed.startswith("not correct:")
    assert "float32" in printed


def test_csv_checker_accepts_a_numpy_reader():
    verdict, printed = run_quietly(CHECKS["check_csv_dataset"], _CSVDataset)
    assert verdict is True and printed == "correct\n"


class _TransformInInit(_IgnoresTransform):
    """Applies the transform once, to every row, when the file is read: a random augmentation
    would then give the same version of an item on every read."""

    def __init__(self, path, transform=None):
        super().__init__(path, transform)
        if transform is not None:
            self.features = torch.stack([transform(x) for x in self.features])


def test_csv_checker_rejects_a_transform_applied_once_in_init():
    verdict, printed = run_quietly(CHECKS["check_csv_dataset"], _TransformInInit)
    assert verdict is False
    assert printed.startswith("not correct: reading item 1 twice ran the transform 0 times")


class _FloatLabels(_CSVDataset):
    """Reads the whole file as floats (np.loadtxt's default) and keeps the label a float: a
    DataLoader then batches the labels as floats, which CrossEntropyLoss does not take."""

    def __getitem__(self, idx):
        x, y = super().__getitem__(idx)
        return x, np.float32(y)


def test_csv_checker_rejects_a_float_label():
    verdict, printed = run_quietly(CHECKS["check_csv_dataset"], _FloatLabels)
    assert verdict is False
    assert printed.startswith("not correct: expected item 2's label as an int, got")


def test_csv_checker_accepts_the_reference_solution():
    namespace = load_solution("04_data", "check_csv_dataset")
    verdict, printed = run_quietly(namespace["check_csv_dataset"], namespace["CSVDataset"])
    assert verdict is True and printed == "correct\n"


def test_collate_checker_rejects_padding_to_the_longest_sequence():
    def wrong(batch):
        sequences, labels = zip(*batch, strict=True)
        return pad_sequence(list(sequences), batch_first=True), torch.tensor(labels)

    verdict, printed = run_quietly(CHECKS["check_collate"], wrong)
    assert verdict is False and printed.startswith("not correct:")
    assert "expected shape (4, 6), got (4, 9)" in printed


def test_collate_checker_rejects_padding_to_the_longest_then_cutting():
    def wrong(batch):
        sequences, labels = zip(*batch, strict=True)
        padded = pad_sequence(list(sequences), batch_first=True)[:, :6]  # short if all are
        return padded, torch.tensor(labels)

    verdict, printed = run_quietly(CHECKS["check_collate"], wrong)
    assert verdict is False
    assert "for lengths [2, 4] expected shape (2, 6), got (2, 4)" in printed


def test_collate_checker_accepts_the_reference_solution():
    namespace = load_solution("04_data", "check_collate")
    verdict, printed = run_quietly(namespace["check_collate"], namespace["collate_fixed"])
    assert verdict is True and printed == "correct\n"


def test_collate_checker_accepts_pad_then_cut():
    def right(batch):
        sequences, labels = zip(*batch, strict=True)
        padded = pad_sequence([*sequences, torch.zeros(6)], batch_first=True)[:-1, :6]
        return padded, torch.tensor(labels)

    verdict, printed = run_quietly(CHECKS["check_collate"], right)
    assert verdict is True and printed == "correct\n"
