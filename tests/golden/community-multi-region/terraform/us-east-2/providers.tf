provider "aws" {
  region = "us-east-2"

  default_tags {
    tags = {
      "cost-center"       = "4711"
      "hacompile:cluster" = "shop"
      "owner"             = "platform"
    }
  }
}
