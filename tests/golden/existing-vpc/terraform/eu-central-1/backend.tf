# This region's state lives in S3 (spec `state.s3`), under its own key; `use_lockfile` locks it
# with a lock object beside the state (Terraform >= 1.10, S3 conditional writes: no DynamoDB
# table). The bucket is yours: keep versioning on and public access blocked.
terraform {
  backend "s3" {
    bucket       = "acme-terraform-state"
    key          = "edge/eu-central-1/terraform.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}
