provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      "cost-center"       = "4711"
      "hacompile:cluster" = "shop"
      "owner"             = "platform"
    }
  }
}
