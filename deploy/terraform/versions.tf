# Terraform and the providers this configuration was written against. Versions are
# pinned exactly so that `terraform init` on a student's laptop and in CI installs the
# same provider code, whose resource schemas the files below were checked against;
# raise them on purpose, read the provider's changelog, and run `terraform plan`.
terraform {
  # 1.9: a variable's validation may name other variables (servers_set_up_by's does).
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.59.0"
    }
    # Passwords and Django's SECRET_KEY, generated once and kept in Secrets Manager.
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
    # The RSA key pair that signs CloudFront URLs (storage_cdn.tf).
    tls = {
      source  = "hashicorp/tls"
      version = "4.1.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource that takes tags gets these: the console's and the bill's "which
  # project is this?" (Cost Explorer can group by the Project tag).
  default_tags {
    tags = {
      Project   = var.name
      ManagedBy = "terraform"
    }
  }
}
