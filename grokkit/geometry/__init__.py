"""Measurements on runs and tensors: pure functions, no training (Chapters 1–5)."""
from grokkit.geometry.commutator import Defect, commutator_defect, defect_series, second_order_commutator
from grokkit.geometry.fourier import fourier_power, key_frequencies
from grokkit.geometry.onset import Lead, PowerLaw, defect_onset, lead_time, power_law_fit, sign_test
from grokkit.geometry.pca import (PCA, execution_basis, expanding_window_pc1, local_svd_basis, null_z, orthonormal,
                                  pc1_shares, pca, projected_fraction, random_basis, random_walk_null,
                                  trajectory_pca)

__all__ = ["Defect", "commutator_defect", "defect_series", "second_order_commutator", "fourier_power",
           "key_frequencies", "Lead", "PowerLaw", "defect_onset", "lead_time", "power_law_fit", "sign_test",
           "PCA", "execution_basis", "expanding_window_pc1", "local_svd_basis", "null_z", "orthonormal",
           "pc1_shares", "pca", "projected_fraction", "random_basis", "random_walk_null", "trajectory_pca"]
