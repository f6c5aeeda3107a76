"""Measurements on runs and tensors: pure functions, no training (Chapters 1–5)."""
from grokkit.geometry.commutator import FORMULAS, Defect, commutator_defect, defect_series, second_order_commutator
from grokkit.geometry.discrimination import AUC, auc_by_step, onset_indicator, steps_before, value_at, weight_norms
from grokkit.geometry.fourier import fourier_power, key_frequencies
from grokkit.geometry.heads import head_cosines
from grokkit.geometry.integrability import exec_random_by_checkpoint, rho_by_checkpoint
from grokkit.geometry.hessian import hvp_fn, lanczos_lowest, lowest_hessian_eigs
from grokkit.geometry.spectra import effective_rank, stable_rank
from grokkit.geometry.reconstruct import (STACKINGS, compression_summary, joint_svd, magnitude_prune, pca_reconstruction, per_matrix_svd,
                                          rescale, spectral_energy, test_accuracy)
from grokkit.geometry.onset import (DefectSummary, Lead, PowerLaw, Reciprocal, defect_onset, defect_summary, lead_time, power_law_fit,
                                    reciprocal_fit, sign_test)
from grokkit.geometry.pca import (PCA, PCA_VARIANTS, execution_basis, parameter_pca, subsample, expanding_window_pc1, local_svd_basis, null_z, orthonormal,
                                  pc1_shares, pca, projected_fraction, random_basis, random_walk_null,
                                  trajectory_pca)

__all__ = ["FORMULAS", "AUC", "auc_by_step", "steps_before", "value_at", "onset_indicator", "weight_norms", "DefectSummary", "defect_summary", "Defect", "commutator_defect", "defect_series", "second_order_commutator", "fourier_power",
           "key_frequencies", "head_cosines", "exec_random_by_checkpoint", "rho_by_checkpoint", "compression_summary", "hvp_fn", "lanczos_lowest", "lowest_hessian_eigs", "Lead", "PowerLaw",
           "Reciprocal", "defect_onset", "lead_time", "power_law_fit", "reciprocal_fit", "sign_test",
           "effective_rank", "stable_rank", "STACKINGS", "joint_svd", "magnitude_prune", "pca_reconstruction", "per_matrix_svd", "rescale",
           "spectral_energy", "test_accuracy", "PCA", "PCA_VARIANTS", "parameter_pca", "subsample", "execution_basis", "expanding_window_pc1", "local_svd_basis", "null_z", "orthonormal",
           "pc1_shares", "pca", "projected_fraction", "random_basis", "random_walk_null", "trajectory_pca"]
