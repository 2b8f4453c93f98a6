"""Stand-ins for what only exists on AWS or after a deployment, shared by verify and the lab.

Why one package: `hacompile verify` and `hacompile lab` both run the bundle's own artefacts
against emulations of the cloud, and each emulation must behave the same for both (a claim
that passes verify's EIP check must meet the same EC2 in the lab). Neither imports the other's
internals; both import from here:

- moto: the EC2/SSM API (moto's server) and the AWS environment aimed at it
- faultproxy: a reverse proxy in front of it that injects EC2's 5xx and throttling answers
- imds: the IMDSv2 stand-in and the small loopback HTTP server base the stubs share
- ec2fixture: what Terraform would create in that API for the script tests (VPC, ENIs, EIPs)
- inventory: what the bundle's inventory says per LB, and the Terraform-output fixtures
- ansible_render: the Ansible run that renders the roles' templates from those fixtures
"""
