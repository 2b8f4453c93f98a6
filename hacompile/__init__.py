"""hacompile: one ha.yaml in, a Terraform + Ansible bundle for active-active HAProxy on AWS out."""

__version__ = "0.1.0"
