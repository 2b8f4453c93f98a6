"""Offline verification of the generated bundle (Terraform schema checks without terraform)."""
