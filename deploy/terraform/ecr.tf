# The image registry: you push the image you build (README.md, "Deploying"), the app
# servers pull it (iam.tf allows them nothing else here).

resource "aws_ecr_repository" "app" {
  #checkov:skip=CKV_AWS_136:AES-256 with ECR's own key encrypts images at no cost; the image holds no secret (they come from Secrets Manager at boot).
  name = var.name
  # A tag always means the same image: a release is a new tag, and a running server's
  # image cannot be swapped underneath it.
  image_tag_mutability = "IMMUTABLE"
  # Lets `terraform destroy` delete the repository with the images in it.
  force_delete = true

  image_scanning_configuration {
    scan_on_push = true # known vulnerabilities of the OS packages and Python wheels
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# Keep the newest 20 images: old releases to roll back to, not every build ever pushed.
resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest 20 images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 20
      }
      action = { type = "expire" }
    }]
  })
}
